// The living cluster's own promises: its nodes, what its controller manager does at once, that the
// controller manager, the scheduler and kwok survive an API-server restart and an etcd compaction,
// and that stop() leaves no process behind.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../hack/cluster/control-plane.ts';
import { nodeSchedulable } from '../../hack/cluster/kwok.ts';
import { isAlive } from '../../hack/cluster/process.ts';
import { createNamespace, ownControlPlane } from '../helpers/cluster.ts';
import { commandLine, processGroupMembers } from '../helpers/processes.ts';
import { deployment, rolledOut } from '../helpers/workloads.ts';

describe('the living cluster', () => {
  const cluster = ownControlPlane({ living: true });

  it('has three schedulable fake nodes, one per zone, and a log per process in its dir', async () => {
    const nodes = (await cluster.core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']).sort()).toEqual([
      'zone-a',
      'zone-b',
      'zone-c',
    ]);
    expect(nodes.every(nodeSchedulable)).toBe(true);
    expect(nodes.every((n) => (n.spec?.taints ?? []).length === 0)).toBe(true);
    for (const log of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
      expect(existsSync(`${cluster.cp.dir}/${log}.log`), log).toBe(true);
    }
    // The controller manager's doing: a ServiceAccount and the root CA in every namespace.
    const namespace = await createNamespace('live-basics', cluster.kc);
    const ca = await cluster.core
      .readNamespacedConfigMap({ namespace, name: 'kube-root-ca.crt' })
      .catch(() => undefined);
    expect(ca?.data?.['ca.crt'] ?? '').toContain('BEGIN CERTIFICATE');
  });

  it('keeps the controller manager, the scheduler and kwok across an API-server restart and a compaction', async () => {
    const before = cluster.cp.state.pids;
    await cluster.cp.restartApiServer();
    await cluster.cp.compactEtcd();
    const after = cluster.cp.state.pids;
    expect(after.apiserver).not.toBe(before.apiserver);
    for (const name of ['controllerManager', 'scheduler', 'kwok'] as const) {
      expect(after[name], name).toBe(before[name]);
      expect(isAlive(after[name]), name).toBe(true);
    }
    // They work: a Deployment after the restart is made, scheduled and run.
    const namespace = await createNamespace('live-restart', cluster.kc);
    await cluster.apps.createNamespacedDeployment({ namespace, body: deployment('after', 3) });
    const pods = await rolledOut(cluster.apps, cluster.core, namespace, 'after');
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBeGreaterThan(0);
    expect(pods.every((p) => p.status?.phase === 'Running' && (p.status.podIP ?? '') !== '')).toBe(true);
  });

  it('stop ends every process it started and removes its temp dir', async () => {
    const members = COMPONENTS.map((name) => cluster.cp.state.pids[name]).flatMap(processGroupMembers);
    const binaries = members.map((pid) => commandLine(pid).split(' ')[0] ?? '');
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
      expect(
        binaries.filter((b) => b.endsWith(`/${name}`)),
        name,
      ).toHaveLength(1);
    }

    await cluster.cp.stop();

    expect(members.filter(isAlive)).toEqual([]);
    expect(existsSync(cluster.cp.dir)).toBe(false);
  });
});
