// A leader frozen (SIGSTOP) for longer than its lease, against the real API server: another replica
// takes the Lease meanwhile and pods are created, so the frozen one wakes (SIGCONT) to a backlog of
// watch events waiting in its socket. It must sync none of them, since its last renewal is older than
// the renew deadline, and exit 1 once it sees the Lease lost, while the other replica leads and syncs.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';
import {
  firstToLog,
  isLeading,
  isSyncOf,
  replicaArgs,
  useOperators,
  within,
  LEASE_NAME,
  timings,
} from './harness.ts';
import { type LogLine } from '../../src/testing/index.ts';

const BACKLOG = ['during-0', 'during-1', 'during-2', 'during-3', 'during-4'];

const core = adminKubeConfig().makeApiClient(CoreV1Api);
const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
const start = useOperators();

const isLost = (l: LogLine): boolean => l.level === 50 && /leader election lost/.test(l.msg ?? '');

describe('a leader stopped with SIGSTOP past its lease, then resumed', () => {
  it('syncs none of its backlog after it resumes, while the new leader does, and exits 1', async () => {
    const namespace = await createNamespace('le-stall');
    const replicas = [0, 1].map((i) => start(replicaArgs(namespace), { POD_NAME: `replica-${i}` }));
    const { replica: stalled, line } = await firstToLog(replicas, isLeading, 30_000);
    const stalledIdentity = String(line.identity);
    const other = replicas.find((r) => r !== stalled);
    if (!other) throw new Error('no second replica');
    await other.waitFor((l) => l.msg === 'another replica leads' && l.leader === stalledIdentity, 30_000);
    await core.createNamespacedPod({ namespace, body: podManifest('before') });
    await stalled.waitFor(isSyncOf('before'));

    stalled.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const { line: took } = await firstToLog([other], isLeading, 30_000);
    const takenAfterMs = Number(took.time) - stoppedAt;
    // Events for the stalled leader's watch pile up in its socket while it is frozen.
    await Promise.all(
      BACKLOG.map((name) => core.createNamespacedPod({ namespace, body: podManifest(name) })),
    );
    for (const name of BACKLOG) await other.waitFor(isSyncOf(name));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const linesBeforeResume = stalled.lines.length;
    stalled.child.kill('SIGCONT');
    const resumedAt = Date.now();
    expect(resumedAt - stoppedAt).toBeGreaterThan(timings.leaseDurationMs);
    console.log(
      `stalled for ${resumedAt - stoppedAt} ms; the other replica took the Lease after ${takenAfterMs} ms`,
    );

    const code = await within(stalled.exited, timings.renewDeadlineMs + 10_000, 'the stalled leader exits');
    const afterResume = stalled.lines.slice(linesBeforeResume);
    const described = afterResume.map((l) => JSON.stringify({ msg: l.msg, event: l.event, name: l.name }));
    console.log(`resumed leader exited ${code} after ${Date.now() - resumedAt} ms:\n${described.join('\n')}`);
    expect(afterResume.filter((l) => l.event !== undefined)).toEqual([]);
    for (const name of BACKLOG) expect(stalled.lines.some(isSyncOf(name)), name).toBe(false);
    expect(code).toBe(1);
    expect(stalled.lines.filter(isLost)).toHaveLength(1);
    expect(stalled.lines.filter(isLeading)).toHaveLength(1);

    const lease = await leases.readNamespacedLease({ namespace, name: LEASE_NAME });
    expect(lease.spec?.holderIdentity).toBe(took.identity);
    await core.createNamespacedPod({ namespace, body: podManifest('after') });
    await other.waitFor(isSyncOf('after'));
  });
});
