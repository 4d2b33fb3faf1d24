// The Deployment's memory request holds the operator at 2,000 pods: the built dist/main.js (what the
// image runs) with the Deployment's flags and environment (NODE_OPTIONS included), its peak RSS measured
// from /proc once every pod is cached and synced.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { adminKubeConfig, createNamespace } from '../helpers/cluster.ts';
import { adminToken, metricsText } from '../helpers/metrics.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { containerProcess, localArgs, operatorContainer } from './container.ts';
import { REPO, deployObjects, deploymentOf } from './manifests.ts';
import { eventually, metricSum } from '../../src/testing/index.ts';

const PODS = 2_000;
/** Deployments, of PODS / OWNERS replicas each. */
const OWNERS = 20;

/**
 * A Deployment of `replicas` pods of a realistic template: labels, an annotation, env, ports, requests,
 * a probe. Its ReplicaSet makes the pods (with an owner, a ServiceAccount token volume, default
 * tolerations), the scheduler binds them and kwok gives them a Running status: about 4 KB each as JSON.
 */
function web(index: number, replicas: number): V1Deployment {
  const labels = { app: 'web', 'web-instance': String(index) };
  return {
    metadata: { name: `web-${String(index).padStart(2, '0')}` },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels: { ...labels, 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/version': '1.2.3' },
          annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' },
        },
        spec: {
          containers: [
            {
              name: 'main',
              image: 'registry.k8s.io/pause:3.10',
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [
                { name: 'MODE', value: 'production' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
            },
          ],
        },
      },
    },
  };
}

const mib = (kb: number) => kb / 1024;
function statusKb(pid: number, field: string): number {
  const line = readFileSync(`/proc/${String(pid)}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+) kB/.exec(line ?? '')?.[1] ?? NaN);
}

const running: OperatorProcess[] = [];
const temp: string[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
  for (const dir of temp.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe(`the Deployment's resources at ${String(PODS)} pods`, () => {
  it('hold the operator: peak RSS below the memory request', { timeout: 600_000 }, async () => {
    // dist/ of our own (a parallel test builds the repository's), beside package.json and node_modules.
    const app = mkdtempSync(join(tmpdir(), 'pod-sync-dist-'));
    temp.push(app);
    await promisify(execFile)(
      process.execPath,
      [
        join(REPO, 'node_modules', 'rolldown', 'bin', 'cli.mjs'),
        '-c',
        'rolldown.config.ts',
        '--dir',
        join(app, 'dist'),
      ],
      { cwd: REPO, timeout: 180_000 },
    );
    copyFileSync(join(REPO, 'package.json'), join(app, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'));

    const admin = adminKubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    const namespace = await createNamespace('resources');
    const apps = admin.makeApiClient(AppsV1Api);
    for (let i = 0; i < OWNERS; i++) {
      await apps.createNamespacedDeployment({ namespace, body: web(i, PODS / OWNERS) });
    }
    await eventually(
      async () => {
        const list = await apps.listNamespacedDeployment({ namespace });
        return list.items.every((d) => d.status?.readyReplicas === PODS / OWNERS);
      },
      300_000,
      1_000,
    );
    expect((await core.listNamespacedPod({ namespace })).items).toHaveLength(PODS);

    const deployment = deploymentOf(await deployObjects());
    const { args, env } = containerProcess(deployment, { name: 'resources', namespace });
    // One namespace, so that other tests' pods do not count; no leader election, so workers start at once.
    const own = args.filter((a) => a !== '--leader-elect');
    const op = startOperator(
      localArgs([...own, '--kubeconfig', inject('kubeconfig'), '--namespace', namespace]),
      env,
      {
        command: [process.execPath, join(app, 'dist', 'main.js')],
      },
    );
    running.push(op);
    const { metrics } = await op.addresses();
    await eventually(
      async () => {
        const text = await metricsText(metrics, { token: adminToken() });
        const reconciled = { controller: 'pod-sync', result: 'success' };
        return (
          metricSum(text, 'pod_sync_pods') === PODS &&
          metricSum(text, 'controller_runtime_reconcile_total', reconciled) >= PODS
        );
      },
      180_000,
      500,
    );
    // Let the event loop and the garbage collector settle, as a scrape some seconds later would see it.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const pid = op.child.pid ?? 0;
    const rss = mib(statusKb(pid, 'VmRSS'));
    const peak = mib(statusKb(pid, 'VmHWM'));
    const heap =
      metricSum(await metricsText(metrics, { token: adminToken() }), 'nodejs_heap_size_used_bytes') / 2 ** 20;
    const { requests = {}, limits = {} } = operatorContainer(deployment).resources ?? {};
    const request = Number(/^(\d+)Mi$/.exec(requests.memory ?? '')?.[1]);
    const limit = Number(/^(\d+)Mi$/.exec(limits.memory ?? '')?.[1]);
    console.log(
      `${String(PODS)} pods: RSS ${rss.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, heap used ${heap.toFixed(0)} MiB; request ${String(request)} MiB, limit ${String(limit)} MiB`,
    );
    expect(peak).toBeLessThan(request);
    expect(peak).toBeLessThan(limit / 2);
    expect(op.lines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });
});
