import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, inject } from 'vitest';
import { freePort } from '../hack/cluster/ports.ts';
import { renderKubeconfig } from '../hack/cluster/kubeconfig.ts';
import { adminKubeConfig, createNamespace, podManifest } from './helpers/cluster.ts';
import { leaderElectArgs, startOperator, type OperatorProcess } from './helpers/operator.ts';
import { metricsText } from './helpers/metrics.ts';

const main = join(import.meta.dirname, '..', 'src', 'main.ts');
const running: OperatorProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});

function operator(args: string[], env: NodeJS.ProcessEnv = {}): OperatorProcess {
  const op = startOperator(args, env);
  running.push(op);
  return op;
}

async function runToExit(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], {
      env: { PATH: process.env.PATH, HOME: tmpdir() },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the operator process', () => {
  it('syncs pods, serves /metrics, /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const namespace = await createNamespace('op');
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace, body: podManifest('before') });

    const op = operator(['--kubeconfig', inject('kubeconfig'), '--namespace', namespace]);
    const { metrics, probes } = await op.addresses();
    await op.waitFor((l) => l.event === 'added' && l.name === 'before');
    await core.createNamespacedPod({ namespace, body: podManifest('after') });
    await op.waitFor((l) => l.event === 'added' && l.name === 'after');

    expect((await fetch(`${probes}/healthz`)).status).toBe(200);
    expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    const text = await metricsText(metrics);
    for (const name of [
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_bucket',
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'controller_runtime_active_workers',
      'controller_runtime_max_concurrent_reconciles',
      'rest_client_requests_total',
      'pod_sync_pods',
      'pod_sync_transitions_total',
      'pod_sync_operator_dropped_keys_total',
      'pod_sync_unresolved_owner_pods',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/pod_sync_transitions_total\{type="added"\} 2/);
    // docs/metrics.md's table is what /metrics exposes: every family of ours with its type and labels,
    // and nothing more but the families that only a flag turns on.
    const exposed = exposedFamilies(text);
    const documented = documentedMetrics();
    expect(exposed.size).toBeGreaterThan(15);
    for (const [name, { type, labels }] of exposed) {
      expect(documented.get(name), `docs/metrics.md: no row for ${name}`).toBeDefined();
      expect(documented.get(name)?.type, `docs/metrics.md: type of ${name}`).toBe(type);
      if (labels) expect(documented.get(name)?.labels, `docs/metrics.md: labels of ${name}`).toEqual(labels);
    }
    const onlyWithAFlag = /^(leader_election|certwatcher)_/; // --leader-elect, --metrics-cert-dir
    expect([...documented.keys()].filter((name) => !exposed.has(name) && !onlyWithAFlag.test(name))).toEqual(
      [],
    );
    const token = adminKubeConfig().getCurrentUser()?.token ?? 'no-token';
    expect(JSON.stringify(op.lines)).not.toContain(token);

    expect(await op.stop('SIGTERM')).toBe(0);
    expect(op.lines.at(-1)?.msg).toBe('stopped');
  });

  it('with --leader-elect, takes the Lease and syncs as its holder', async () => {
    const namespace = await createNamespace('op-lease');
    const op = operator(leaderElectArgs(namespace), { POD_NAME: 'op-under-test' });
    const leading = await op.waitFor((l) => l.msg === 'became the leader: starting workers');
    expect(String(leading.identity)).toMatch(/^op-under-test_/);
    const lease = await adminKubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace, name: 'pod-sync-operator' });
    expect(lease.spec?.holderIdentity).toBe(leading.identity);

    expect(await op.stop('SIGTERM')).toBe(0);
    // Released on the way out, so the next replica need not wait out the lease.
    const released = await adminKubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace, name: 'pod-sync-operator' });
    expect(released.spec?.holderIdentity ?? '').toBe('');
    expect(released.spec?.leaseDurationSeconds).toBe(1);
  });

  it('against a closed port: not ready, retrying, then exits 1 when the cache sync timeout passes', async () => {
    const path = join(tmpdir(), `closed-kubeconfig-${process.pid}`);
    const server = `https://127.0.0.1:${await freePort()}`;
    writeFileSync(
      path,
      renderKubeconfig({ name: 'closed', server, caPem: 'unused', token: 'secret-token-value' }),
    );
    const op = operator(['--kubeconfig', path, '--cache-sync-timeout=4s']);
    const { probes } = await op.addresses();
    const ready = await fetch(`${probes}/readyz`);
    expect(ready.status).toBe(503);
    // Owner caches start only for kinds the pods name: with no pod listed, only the pods are missing.
    expect(await ready.text()).toContain('caches not synced: pods');
    expect((await fetch(`${probes}/healthz`)).status).toBe(200);

    expect(await op.exited).toBe(1);
    const failure = op.lines.find((l) => l.level === 50);
    expect(failure?.msg).toContain('caches did not sync in time');
    expect(op.lines.filter((l) => l.level === 40 || l.level === 50).length).toBeGreaterThan(1);
    expect(JSON.stringify(op.lines)).not.toContain('secret-token-value');
  });

  it('takes the kubeconfig from $KUBECONFIG when no flag is given', async () => {
    const op = operator(['--namespace', 'default'], { KUBECONFIG: inject('kubeconfig') });
    const line = await op.waitFor((l) => l.msg === 'starting pod-sync-operator');
    expect(line.kubeconfig).toBe(inject('kubeconfig'));
    await op.waitFor((l) => l.msg === 'caches synced');
  });

  it('rejects an unknown flag with exit 2 and one line naming it', async () => {
    const { code, stderr, stdout } = await runToExit(['--bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--bogus');
  });

  it('rejects a bad value with exit 2, naming what is accepted', async () => {
    const { code, stderr } = await runToExit(['--log-format', 'xml']);
    expect(code).toBe(2);
    expect(stderr).toContain('json, pretty');
  });

  it('rejects a lease duration under 1 s (the Lease keeps whole seconds) with exit 2 before connecting', async () => {
    // Renew deadline and retry period that pass every other rule (900 > 800 > 1.2 x 500).
    const { code, stderr, stdout } = await runToExit([
      '--kubeconfig',
      inject('kubeconfig'),
      '--leader-elect',
      '--leader-election-namespace=default',
      '--leader-election-lease-duration=900ms',
      '--leader-election-renew-deadline=800ms',
      '--leader-election-retry-period=500ms',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--leader-election-lease-duration (900ms) must be at least 1s');
  });

  it('answers --help and --version with exit 0', async () => {
    const help = await runToExit(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--leader-election-lease-duration');
    const version = await runToExit(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: 'pod-sync-operator 0.1.0\n' });
  });

  it('fails with exit 2 and one clear line for a malformed kubeconfig (bad input)', async () => {
    const path = join(tmpdir(), `bad-kubeconfig-${process.pid}`);
    writeFileSync(path, 'clusters: [this is: not: yaml');
    const { code, stdout } = await runToExit([
      '--kubeconfig',
      path,
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
    ]);
    expect(code).toBe(2);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path);
  });

  it('refuses --leader-elect outside a pod without a lease namespace, with exit 2', async () => {
    const { code, stdout } = await runToExit([
      '--kubeconfig',
      inject('kubeconfig'),
      '--leader-elect',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
    ]);
    expect(code).toBe(2);
    expect(stdout).toContain('--leader-election-namespace');
  });

  it('fails clearly when its metrics port is taken', async () => {
    const first = operator(['--kubeconfig', inject('kubeconfig'), '--namespace', 'default']);
    const { metrics } = await first.addresses();
    const bind = metrics.replace('http://', '');
    const { code, stdout } = await runToExit([
      '--kubeconfig',
      inject('kubeconfig'),
      `--metrics-bind-address=${bind}`,
      '--health-probe-bind-address=0',
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(`metrics server cannot listen on ${bind}: EADDRINUSE`);
  });
});

interface MetricFamily {
  type: string;
  /** Sorted label names; undefined when the family has no sample to read them from. */
  labels?: string[];
}

/** Our families on /metrics (prom-client's process_ and nodejs_ ones aside), from # TYPE and the samples. */
function exposedFamilies(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  for (const [, name = '', type = ''] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (/^(process|nodejs)_/.test(name)) continue;
    const sample = new RegExp(`^${name}(?:_bucket|_sum|_count)?(?:\\{([^}]*)\\})? `, 'm').exec(text);
    const labels = sample
      ? [...(sample[1] ?? '').matchAll(/(\w+)="/g)].map((m) => m[1] ?? '').filter((l) => l !== 'le')
      : undefined;
    families.set(name, { type, labels: labels?.sort() });
  }
  return families;
}

/** The rows of docs/metrics.md's table: name, the type's first word, the label names in backquotes. */
function documentedMetrics(): Map<string, MetricFamily> {
  const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'metrics.md'), 'utf8');
  const rows = new Map<string, MetricFamily>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([a-z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name || cells.length < 5) continue;
    const type = (cells[2] ?? '').split(' ')[0] ?? '';
    const labels = [...(cells[3] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] ?? '').sort();
    rows.set(name, { type, labels });
  }
  return rows;
}
