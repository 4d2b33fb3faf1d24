import { describe, expect, it } from 'vitest';
import { aborted } from '../clock/index.ts';
import { advanceTo, captureLogs, FakeClock, FakeLeaseClient } from '../testing/index.ts';
import { LeaderElectionLostError, LeaseLock } from '../leaderelection/index.ts';
import { CacheSyncTimeoutError, Manager, type ManagerOptions } from './manager.ts';
import type { Cache, Runnable, Server } from './runnable.ts';

/** A manager whose servers, caches and runnables write what happens to them into `events`. */
function fixture(options: Partial<ManagerOptions> = {}) {
  const clock = new FakeClock(0);
  const { logger, lines } = captureLogs();
  const events: string[] = [];
  const mgr = new Manager({ name: 'test', clock, logger, cacheSyncTimeoutMs: 1_000, ...options });
  const server = (name: string): (() => Promise<Server>) => {
    return () => {
      events.push(`${name} listening`);
      return Promise.resolve({
        url: `http://${name}`,
        close: () => {
          events.push(`${name} closed`);
          return Promise.resolve();
        },
      });
    };
  };
  const cache: Cache = {
    start: () => events.push('cache started'),
    shutdown: () => {
      events.push('cache stopped');
      return Promise.resolve();
    },
  };
  /** A runnable that runs until its signal aborts; `synced` makes it one whose caches the manager waits for. */
  const runnable = (name: string, needLeaderElection: boolean, synced?: () => boolean) => {
    const state = { signal: undefined as AbortSignal | undefined };
    const r: Runnable = {
      needLeaderElection,
      async start(signal) {
        state.signal = signal;
        events.push(`${name} started`);
        await aborted(signal);
        events.push(`${name} stopped`);
      },
      ...(synced ? { hasSynced: synced, unsyncedCaches: () => (synced() ? [] : [name]) } : {}),
    };
    return Object.assign(r, { state });
  };
  return { clock, logger, lines, events, mgr, server, cache, runnable };
}

describe('Manager', () => {
  it('starts servers, then the others, then the caches, waits for them once, then the leaders; stops in reverse', async () => {
    const { clock, events, lines, mgr, server, cache, runnable } = fixture();
    let synced = false;
    mgr.addServer(server('metrics'));
    mgr.addServer(server('probes'));
    mgr.add(runnable('heap', false));
    mgr.addCache(cache);
    mgr.add(runnable('workers', true, () => synced));
    const stop = new AbortController();
    const done = mgr.start(stop.signal);
    await advanceTo(clock, 500);
    expect(events).toEqual(['metrics listening', 'probes listening', 'heap started', 'cache started']);
    expect(mgr.cachesSynced()).toBe('caches not synced: workers');
    expect(lines.find((l) => l.msg === 'starting test')).toMatchObject({
      servers: ['http://metrics', 'http://probes'],
    });
    synced = true;
    await advanceTo(clock, 600);
    expect(mgr.cachesSynced()).toBe(true);
    expect(events.at(-1)).toBe('workers started');
    expect(lines.map((l) => l.msg)).toContain('caches synced');

    stop.abort();
    expect(await done).toBeUndefined();
    expect(events.slice(5)).toEqual([
      'workers stopped',
      'cache stopped',
      'heap stopped',
      'metrics closed',
      'probes closed',
    ]);
  });

  it('fails when the caches do not sync in time: logged once with err.message, no leader runnable started', async () => {
    const { clock, events, lines, mgr, cache, runnable } = fixture();
    mgr.addCache(cache);
    mgr.add(runnable('pods', true, () => false));
    const done = mgr.start(new AbortController().signal);
    await advanceTo(clock, 1_000);
    const failure = await done;
    expect(failure).toBeInstanceOf(CacheSyncTimeoutError);
    expect(events).toEqual(['cache started', 'cache stopped']);
    const errors = lines.filter((l) => (l.level ?? 0) >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe(
      'caches did not sync in time (pods): is the API server reachable, and may this identity list and watch them?',
    );
    expect(errors[0]?.err).toMatchObject({
      type: 'CacheSyncTimeoutError',
      message: 'caches not synced within 1000 ms: pods',
    });
  });

  it('stops cleanly when signalled while the caches sync', async () => {
    const { clock, events, mgr, cache, runnable } = fixture();
    mgr.addCache(cache);
    mgr.add(runnable('workers', true, () => false));
    const stop = new AbortController();
    const done = mgr.start(stop.signal);
    await advanceTo(clock, 300);
    stop.abort();
    expect(await done).toBeUndefined();
    expect(events).toEqual(['cache started', 'cache stopped']);
  });

  it('stops everything on the first runnable that fails, and resolves with its error', async () => {
    const { clock, events, lines, mgr, cache, runnable } = fixture();
    const boom = new Error('boom');
    mgr.addCache(cache);
    mgr.add(runnable('workers', true));
    mgr.add({ needLeaderElection: true, start: () => Promise.reject(boom) });
    const done = mgr.start(new AbortController().signal);
    await advanceTo(clock, 100);
    expect(await done).toBe(boom);
    expect(events).toEqual(['cache started', 'workers started', 'workers stopped', 'cache stopped']);
    const errors = lines.filter((l) => (l.level ?? 0) >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      msg: 'runnable failed: stopping',
      err: { type: 'Error', message: 'boom' },
    });
  });

  it('rejects when a server cannot listen, after closing the ones that did, and starts nothing else', async () => {
    const { events, mgr, server, cache, runnable } = fixture();
    mgr.addServer(server('metrics'));
    mgr.addServer(() => Promise.reject(new Error('probes cannot listen on :8081: EADDRINUSE')));
    mgr.addCache(cache);
    mgr.add(runnable('workers', true));
    await expect(mgr.start(new AbortController().signal)).rejects.toThrow('EADDRINUSE');
    expect(events).toEqual(['metrics listening', 'cache stopped', 'metrics closed']);
  });

  it('without leader election, gives the leaders an always-open gate', () => {
    const { mgr } = fixture();
    expect(mgr.leaderGate.isLeader()).toBe(true);
  });
});

describe('Manager with leader election', () => {
  function elected() {
    const api = new FakeLeaseClient();
    const f = fixture();
    const lock = new LeaseLock({ client: api, namespace: 'ns', name: 'lock', identity: 'a' });
    const { clock, logger } = f;
    const mgr = new Manager({
      name: 'test',
      clock,
      logger,
      leaderElection: { lock, clock, wallClock: () => new Date(clock.now()), random: () => 0 },
    });
    return { ...f, mgr, api };
  }

  it('starts the leaders once the Lease is won, behind the elector as their gate', async () => {
    const { clock, events, lines, mgr, cache, runnable, api } = elected();
    const workers = runnable('workers', true, () => true);
    mgr.addCache(cache);
    mgr.add(workers);
    const stop = new AbortController();
    const done = mgr.start(stop.signal);
    await advanceTo(clock, 200);
    expect(events).toEqual(['cache started', 'workers started']);
    expect(lines.find((l) => l.msg === 'became the leader: starting workers')).toMatchObject({
      identity: 'a',
    });
    expect(mgr.leaderGate.isLeader()).toBe(true);
    expect(api.peek('ns', 'lock')?.spec.holderIdentity).toBe('a');

    stop.abort();
    await advanceTo(clock, 300);
    expect(await done).toBeUndefined();
    expect(events.slice(2)).toEqual(['workers stopped', 'cache stopped']);
    // Released after the workers stopped.
    expect(api.peek('ns', 'lock')?.spec.holderIdentity).toBe('');
  });

  it('a lost Lease aborts the leaders at once and fails with LeaderElectionLostError', async () => {
    const { clock, events, lines, mgr, cache, runnable, api } = elected();
    const workers = runnable('workers', true, () => true);
    mgr.addCache(cache);
    mgr.add(workers);
    const done = mgr.start(new AbortController().signal);
    await advanceTo(clock, 200);
    const lease = api.peek('ns', 'lock');
    if (!lease) throw new Error('no lease');
    api.put({ ...lease, spec: { ...lease.spec, holderIdentity: 'b', leaseTransitions: 1 } });
    await advanceTo(clock, 3_000);
    const failure = await done;
    expect(failure).toBeInstanceOf(LeaderElectionLostError);
    expect(workers.state.signal?.reason).toBe(failure);
    // Logged once, by the elector, with the reason as err.message; the manager adds no line of its own.
    const lost = lines.filter((l) => (l.level ?? 0) >= 50);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ msg: 'leader election lost' });
    expect((lost[0]?.err as { message?: unknown }).message).toContain('is now held by b');
    expect(events).toEqual(['cache started', 'workers started', 'workers stopped', 'cache stopped']);
  });
});
