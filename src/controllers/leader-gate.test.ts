// A Controller behind a real LeaderElector on a fake clock and an in-memory Lease API: the split brain
// of a leader that froze while another replica took its Lease, and that the gate prevents.
import { describe, expect, it } from 'vitest';
import { FakeClock, FakeLeaseClient, advanceTo, flush } from '../testing/index.ts';
import { LeaderElector, type LeaderElectionResult, LeaseLock } from '../leaderelection/index.ts';
import { ItemExponentialFailureRateLimiter } from '../queue/index.ts';
import { Controller } from './controller.ts';

function gatedLeader(clock: FakeClock, api: FakeLeaseClient) {
  const synced: { key: string; at: number }[] = [];
  let controller: Controller | undefined = undefined;
  const elector: LeaderElector = new LeaderElector({
    lock: new LeaseLock({ client: api, namespace: 'ns', name: 'lock', identity: 'a' }),
    clock,
    wallClock: () => new Date(clock.now()),
    random: () => 0,
    callbacks: {
      onStartedLeading: (signal) => controller?.start(signal),
    },
  });
  controller = new Controller({
    name: 'gated',
    reconcile: (key) => {
      synced.push({ key, at: clock.now() });
      return Promise.resolve(undefined);
    },
    rateLimiter: new ItemExponentialFailureRateLimiter<string>(5, 1000),
    gracefulShutdownTimeoutMs: 30_000,
    leaderGate: elector,
    clock,
  });
  const stop = new AbortController();
  let result: LeaderElectionResult | undefined;
  const running = elector.run(stop.signal).then((r) => (result = r));
  return { elector, controller, synced, stop, running, result: () => result };
}

describe('a Controller gated by the LeaderElector', () => {
  it('syncs none of the backlog a frozen leader wakes up to once another took its Lease, and stops', async () => {
    const clock = new FakeClock(0);
    const api = new FakeLeaseClient();
    const a = gatedLeader(clock, api);
    await advanceTo(clock, 1_000);
    a.controller.enqueue('ns/before');
    await flush();
    expect(a.synced).toEqual([{ key: 'ns/before', at: 1_000 }]);

    // Frozen for 20 s: meanwhile another replica waited out the lease (15 s) and took it.
    clock.stall(20_000);
    const lease = api.peek('ns', 'lock');
    if (!lease) throw new Error('no lease');
    api.put({ ...lease, spec: { ...lease.spec, holderIdentity: 'b', leaseTransitions: 1 } });
    // On waking, the events that queued up in the socket are read first and enqueued.
    a.controller.enqueue('ns/during-1');
    a.controller.enqueue('ns/during-2');
    await flush();
    expect(a.elector.isLeader()).toBe(false);
    expect(a.synced.map((s) => s.key)).toEqual(['ns/before']);

    // Then the late timers: the renewal finds b holding the Lease, and the workers stop, undrained.
    await advanceTo(clock, 21_100);
    expect(a.result()?.reason).toBe('lost');
    await advanceTo(clock, 60_000);
    expect(a.synced.map((s) => s.key)).toEqual(['ns/before']);
    expect(a.controller.queue.shuttingDown()).toBe(true);
  });

  it('syncs the backlog after the stall once a renewal sent after it succeeds, when nobody took the Lease', async () => {
    const clock = new FakeClock(0);
    const api = new FakeLeaseClient();
    const a = gatedLeader(clock, api);
    await advanceTo(clock, 1_000);
    clock.stall(12_000);
    a.controller.enqueue('ns/during');
    await flush();
    expect(a.synced).toEqual([]);
    await advanceTo(clock, 13_100);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.synced.map((s) => s.key)).toEqual(['ns/during']);
    expect(a.synced[0]?.at).toBeGreaterThanOrEqual(13_000);
    a.stop.abort();
    await a.running;
  });
});
