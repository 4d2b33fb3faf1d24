// The kubelet gives each probe 1 s by default: /healthz and /readyz must answer within that while the
// operator is busy syncing a burst of pods. The probes come from a process of their own (prober.ts),
// so only the operator's own latency and the machine's scheduling count.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import { apiConfiguration } from '../helpers/api-configuration.ts';
import { adminKubeConfig, createNamespace, podManifest, restConfigOf } from '../helpers/cluster.ts';
import { tiedToParent } from '../helpers/tied.ts';
import { inParallel } from '../informers/helpers.ts';
import { useOperators, within } from './harness.ts';
import { metricsText } from '../helpers/metrics.ts';
import { metricValue } from '../../src/testing/index.ts';

const PODS = 500;
const CREATE_CONCURRENCY = 20;
const PROBE_EVERY_MS = 100;
/** The kubelet's default timeoutSeconds for probes. */
const PROBE_TIMEOUT_MS = 1_000;
const PATHS = ['/healthz', '/readyz'];

const start = useOperators();

interface Probe {
  path: string;
  at: number;
  status: number;
  ms: number;
}

/** Starts prober.ts against `base`; stop() ends it and returns every probe it made. */
async function startProber(base: string): Promise<{ stop: () => Promise<Probe[]> }> {
  const child = spawn(
    ...tiedToParent(process.execPath, [
      join(import.meta.dirname, 'prober.ts'),
      base,
      String(PROBE_EVERY_MS),
      ...PATHS,
    ]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const results: Probe[] = [];
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const parsed = JSON.parse(line) as Probe | { ready: true };
    if ('ready' in parsed) ready();
    else results.push(parsed);
  });
  await within(started, 10_000, 'the prober starts');
  return {
    async stop() {
      child.kill('SIGTERM');
      await within(exited, 10_000, 'the prober stops').catch((err: unknown) => {
        child.kill('SIGKILL');
        throw err;
      });
      return results;
    },
  };
}

describe('probes under load', () => {
  it(`/healthz and /readyz answer within 1 s while ${PODS} pods are synced`, async () => {
    const namespace = await createNamespace('probes');
    const op = start(['--kubeconfig', inject('kubeconfig'), '--namespace', namespace]);
    const { probes, metrics } = await op.addresses();
    await op.waitFor((l) => l.msg === 'caches synced');

    // One pooled client for the burst: client-node alone opens a TLS connection per request, CPU
    // that would be taken from the operator under test.
    const client = HttpRestClient.fromConfig(restConfigOf(adminKubeConfig()), {
      rateLimit: { qps: Infinity, burst: 1 }, // the burst is the load, not to be paced
    });
    const core = new CoreV1Api(apiConfiguration(client.transport));
    const prober = await startProber(probes);
    const burstStarted = Date.now();
    let results: Probe[];
    try {
      const names = Array.from({ length: PODS }, (_, i) => `burst-${i}`);
      await inParallel(names, CREATE_CONCURRENCY, (name) =>
        core.createNamespacedPod({ namespace, body: podManifest(name) }),
      );
      // Every pod synced: the burst is over.
      const deadline = Date.now() + 60_000;
      while (
        metricValue(await metricsText(metrics), 'pod_sync_transitions_total', { type: 'added' }) !== PODS
      ) {
        if (Date.now() > deadline) throw new Error(`${PODS} pods not synced within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      results = await prober.stop();
      await client.close();
    }
    const syncs = op.lines.filter((l) => l.event === 'added');
    expect(syncs).toHaveLength(PODS);
    const firstSync = Math.min(...syncs.map((l) => Number(l.time)));
    const lastSync = Math.max(...syncs.map((l) => Number(l.time)));

    for (const path of PATHS) {
      const mine = results.filter((r) => r.path === path);
      const during = mine.filter((r) => r.at >= firstSync && r.at <= lastSync);
      const max = Math.max(...mine.map((r) => r.ms));
      console.log(
        `${path}: ${mine.length} probes over ${Date.now() - burstStarted} ms (${during.length} while syncing ${firstSync}..${lastSync}), max ${max.toFixed(1)} ms`,
      );
      expect(mine.filter((r) => r.status !== 200)).toEqual([]);
      expect(during.length).toBeGreaterThanOrEqual(3);
      expect(max).toBeLessThan(PROBE_TIMEOUT_MS);
    }
  });
});
