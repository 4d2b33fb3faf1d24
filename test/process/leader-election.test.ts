// Three operator processes on one Lease against the real API server: one leads and only it syncs; a
// SIGKILLed leader is replaced once its lease expires, a SIGTERMed one hands the Lease over at once, and a
// leader whose Lease is overwritten stops and exits 1.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { JITTER_FACTOR } from '../../src/leaderelection/index.ts';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';
import {
  firstToLog,
  isLeading,
  isSyncOf,
  replicaArgs,
  settingsFor,
  syncLines,
  timedGet,
  useOperators,
  within,
  type Replica,
  LEASE_NAME,
  timings,
} from './harness.ts';
import { metricsText } from '../helpers/metrics.ts';
import { eventually, metricValue } from '../../src/testing/index.ts';

/** Room for process scheduling, API round trips and timer lateness on a loaded 2-core machine. */
const MARGIN_MS = 1_000;

/**
 * The longest a SIGKILLed leader goes unreplaced, from the kill: a candidate judges expiry by its own
 * clock, from the attempt at which it first saw the leader's last renewal. That attempt can come up to
 * one jittered retry period, retryPeriod × (1 + 1.2), after the kill; the lease then runs leaseDuration
 * on the candidate's clock, and the attempt that finds it expired comes up to one more jittered retry
 * period later. (leaseDuration + 1.2 × retryPeriod is not a bound: 5.1 s was measured with 4 s / 0.5 s.)
 */
function killFailoverBoundMs(s: { leaseDurationMs: number; retryPeriodMs: number }): number {
  const maxAcquireWait = s.retryPeriodMs * (1 + JITTER_FACTOR);
  return s.leaseDurationMs + 2 * maxAcquireWait;
}

const core = adminKubeConfig().makeApiClient(CoreV1Api);
const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
const start = useOperators();

/** Three replicas on one Lease in a namespace of their own, watching that namespace. */
async function threeReplicas(prefix: string): Promise<{ namespace: string; replicas: Replica[] }> {
  const namespace = await createNamespace(prefix);
  const replicas = [0, 1, 2].map((i) => start(replicaArgs(namespace), { POD_NAME: `replica-${i}` }));
  return { namespace, replicas };
}

/** Waits until exactly one replica leads and both others have seen it as the holder; returns it. */
async function electedLeader(replicas: Replica[]): Promise<{ leader: Replica; identity: string }> {
  const { replica: leader, line } = await firstToLog(replicas, isLeading, 30_000);
  const identity = String(line.identity);
  const standbys = replicas.filter((r) => r !== leader);
  await Promise.all(
    standbys.map((r) => r.waitFor((l) => l.msg === 'another replica leads' && l.leader === identity, 30_000)),
  );
  for (const r of standbys) expect(r.lines.filter(isLeading), `${r.child.pid} never led`).toEqual([]);
  return { leader, identity };
}

async function holder(namespace: string): Promise<string> {
  const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
  return lease.spec?.holderIdentity ?? '';
}

async function createPods(namespace: string, names: string[]): Promise<void> {
  await Promise.all(names.map((name) => core.createNamespacedPod({ namespace, body: podManifest(name) })));
}

/** Pods in a replica's cache, by its pod_sync_pods gauge (all phases). */
async function cachedPods(metricsUrl: string): Promise<number> {
  const text = await metricsText(metricsUrl);
  return [...text.matchAll(/^pod_sync_pods\{phase="[^"]*"\} (\d+)$/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe('three replicas with leader election', () => {
  it('the failover bound follows from the timing flags: the defaults give 15 s + 2 × 4.4 s', () => {
    const defaults = settingsFor([]);
    expect(defaults).toMatchObject({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(killFailoverBoundMs(defaults)).toBeCloseTo(23_800, 6);
    expect(timings).toMatchObject({ leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 });
    expect(killFailoverBoundMs(timings)).toBeCloseTo(6_200, 6);
  });

  it('one leads and holds the Lease; only it syncs; standbys are ready, their master status 0', async () => {
    const { namespace, replicas } = await threeReplicas('le-one');
    const { leader, identity } = await electedLeader(replicas);
    expect(identity).toMatch(/^replica-[012]_[0-9a-f-]{36}$/);
    expect(await holder(namespace)).toBe(identity);

    const names = ['p-0', 'p-1', 'p-2', 'p-3', 'p-4'];
    await createPods(namespace, names);
    for (const name of names) await leader.waitFor(isSyncOf(name));
    const standbys = replicas.filter((r) => r !== leader);
    // The standbys have the pods in their caches (so they saw the events) and still synced none of them.
    for (const standby of standbys) {
      const { metrics } = await standby.addresses();
      await eventually(async () => (await cachedPods(metrics)) === names.length);
      expect(syncLines(standby)).toEqual([]);
    }
    expect(
      syncLines(leader)
        .map((l) => l.name)
        .sort(),
    ).toEqual(names);

    const lease = `${namespace}/${LEASE_NAME}`;
    const leaderText = await metricsText((await leader.addresses()).metrics);
    expect(leaderText).toContain(`leader_election_master_status{name="${lease}"} 1`);
    for (const standby of standbys) {
      const { metrics, probes } = await standby.addresses();
      expect(await metricsText(metrics)).toContain(`leader_election_master_status{name="${lease}"} 0`);
      const ready = await timedGet(`${probes}/readyz`);
      expect(ready.status).toBe(200);
      expect((await timedGet(`${probes}/healthz`)).status).toBe(200);
    }
    expect(metricValue(leaderText, 'pod_sync_transitions_total', { type: 'added' })).toBe(names.length);
  });

  it('SIGKILL of the leader: another takes over once the lease expires, and syncs', async () => {
    const { namespace, replicas } = await threeReplicas('le-kill');
    const { leader } = await electedLeader(replicas);
    await createPods(namespace, ['before-kill']);
    await leader.waitFor(isSyncOf('before-kill'));

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    expect(await leader.exited).toBeNull();
    // The dead leader's last renewal, stamped by its wall clock: the same clock as ours.
    const last = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
    const lastRenewal = new Date(last.spec?.renewTime ?? 0).getTime();
    expect(lastRenewal).toBeLessThanOrEqual(killedAt);
    const survivors = replicas.filter((r) => r !== leader);
    const bound = killFailoverBoundMs(timings) + MARGIN_MS;
    const { replica: next, line } = await firstToLog(survivors, isLeading, bound + 10_000);
    const failoverMs = Number(line.time) - killedAt;
    console.log(
      `SIGKILL failover: ${failoverMs} ms after the kill, ${Number(line.time) - lastRenewal} ms after the last renewal (bound ${bound} ms)`,
    );
    // Not before the lease expired (a candidate first sees a renewal after it is written), not much after.
    expect(Number(line.time) - lastRenewal).toBeGreaterThanOrEqual(timings.leaseDurationMs);
    expect(failoverMs).toBeLessThan(bound);
    expect(await holder(namespace)).toBe(line.identity);

    // The new leader syncs what its warm cache holds (the pod from before) and what comes after.
    await next.waitFor(isSyncOf('before-kill'));
    await createPods(namespace, ['after-kill']);
    await next.waitFor(isSyncOf('after-kill'));
    const other = survivors.find((r) => r !== next);
    expect(other && syncLines(other)).toEqual([]);
    expect(other?.lines.filter(isLeading)).toEqual([]);
  });

  it('SIGTERM of the leader: it exits 0 after releasing, and another leads within a retry period of the release', async () => {
    const { namespace, replicas } = await threeReplicas('le-term');
    const { leader, identity } = await electedLeader(replicas);
    await createPods(namespace, ['before-term']);
    await leader.waitFor(isSyncOf('before-term'));

    const termAt = Date.now();
    leader.child.kill('SIGTERM');
    const survivors = replicas.filter((r) => r !== leader);
    const { replica: next, line } = await firstToLog(survivors, isLeading, 10_000);
    expect(await within(leader.exited, 10_000, 'the SIGTERMed leader exits')).toBe(0);
    const released = leader.lines.find((l) => l.msg === 'released lease' && l.identity === identity);
    expect(released, 'the leader released the Lease').toBeDefined();
    // Released, the Lease is taken at a standby's next attempt: within one jittered retry period, not
    // a lease duration. Timed from the release, so that a slow shutdown on a loaded machine (the
    // workers drain first) is not counted as a slow handover.
    const handoverMs = Number(line.time) - Number(released?.time);
    console.log(`SIGTERM failover: ${Number(line.time) - termAt} ms, ${handoverMs} ms after the release`);
    expect(handoverMs).toBeLessThan(timings.retryPeriodMs * (1 + JITTER_FACTOR) + MARGIN_MS);
    expect(leader.lines.at(-1)?.msg).toBe('stopped');
    expect(line.identity).not.toBe(identity);
    expect(await holder(namespace)).toBe(line.identity);

    await next.waitFor(isSyncOf('before-term'));
    await createPods(namespace, ['after-term']);
    await next.waitFor(isSyncOf('after-term'));
    expect(leader.lines.some(isSyncOf('after-term'))).toBe(false);

    // A standby stopped the same way also exits 0, and leaves the Lease alone.
    const standby = survivors.find((r) => r !== next);
    if (!standby) throw new Error('no standby left');
    expect(await within(standby.stop('SIGTERM'), 10_000, 'the SIGTERMed standby exits')).toBe(0);
    expect(standby.lines.filter((l) => l.msg === 'released lease')).toEqual([]);
    expect(await holder(namespace)).toBe(line.identity);
  });

  it('an overwritten holder: the leader stops syncing and exits 1 within the renew deadline', async () => {
    const { namespace, replicas } = await threeReplicas('le-steal');
    const { leader } = await electedLeader(replicas);
    await createPods(namespace, ['before-steal']);
    await leader.waitFor(isSyncOf('before-steal'));

    const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
    if (!lease.spec) throw new Error('the Lease has no spec');
    lease.spec.holderIdentity = 'intruder';
    const overwrittenAt = Date.now();
    await leases.replaceNamespacedLease({ namespace, name: LEASE_NAME, body: lease });
    const code = await within(leader.exited, timings.renewDeadlineMs + 5_000, 'the deposed leader exits');
    const exitMs = (await leader.exitedAt) - overwrittenAt;
    console.log(`overwritten holder: leader exited ${exitMs} ms after the overwrite`);
    expect(code).toBe(1);
    expect(exitMs).toBeLessThan(timings.renewDeadlineMs + MARGIN_MS);

    const lost = leader.lines.findIndex((l) => l.level === 50 && /leader election lost/.test(l.msg ?? ''));
    expect(lost, JSON.stringify(leader.lines.slice(-10))).toBeGreaterThanOrEqual(0);
    expect((leader.lines[lost]?.err as { message?: unknown } | undefined)?.message).toContain(
      'held by intruder',
    );
    expect(leader.lines.slice(lost).filter((l) => l.event !== undefined)).toEqual([]);

    // Nobody renews the intruder's lease, so a standby takes it after it expires and syncs what comes.
    await createPods(namespace, ['after-steal']);
    const survivors = replicas.filter((r) => r !== leader);
    const { replica: next, line } = await firstToLog(
      survivors,
      isLeading,
      killFailoverBoundMs(timings) + MARGIN_MS + 10_000,
    );
    await next.waitFor(isSyncOf('after-steal'));
    expect(await holder(namespace)).toBe(line.identity);
    expect(leader.lines.some(isSyncOf('after-steal'))).toBe(false);
  });
});
