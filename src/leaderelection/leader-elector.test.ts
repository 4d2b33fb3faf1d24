import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../client/index.ts';
import {
  FakeClock,
  FakeLeaseClient,
  type LeaseOperation,
  advance,
  advanceTo,
  captureLogs,
  flush,
  metricValue,
} from '../testing/index.ts';
import { LeaderElectionConfigError } from './config.ts';
import {
  LeaderElectionLostError,
  LeaderElector,
  type LeaderElectionResult,
  type LeaderElectorOptions,
  type StopReason,
} from './leader-elector.ts';
import type { Lease, LeaseClient, LeaseSpec } from './lease-client.ts';
import { LeaseLock } from './lease-lock.ts';

const NS = 'ns';
const NAME = 'lock';
/** Wall time of fake-clock 0; the wall clock given to electors is this plus the fake clock. */
const WALL_EPOCH = Date.UTC(2026, 0, 1);
const wallAt = (ms: number): string => new Date(WALL_EPOCH + ms).toISOString().replace('Z', '000Z');

/** A candidate's own view of the shared fake API: it can be made to fail or hang on its own. */
class CandidateClient implements LeaseClient {
  readonly #inner: LeaseClient;
  readonly #clock: FakeClock;
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  readonly calls: { op: LeaseOperation; at: number }[] = [];

  constructor(inner: LeaseClient, clock: FakeClock) {
    this.#inner = inner;
    this.#clock = clock;
  }

  get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined> {
    return this.#call('get', () => this.#inner.get(namespace, name, signal));
  }

  create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    return this.#call('create', () => this.#inner.create(lease, signal));
  }

  update(lease: Lease, signal: AbortSignal): Promise<Lease> {
    return this.#call('update', () => this.#inner.update(lease, signal));
  }

  #call<T>(op: LeaseOperation, fn: () => Promise<T>): Promise<T> {
    this.calls.push({ op, at: this.#clock.now() });
    if (this.mode === 'fail') return Promise.reject(new Error('connection refused'));
    // Ignores its signal on purpose: the elector must not depend on the client honouring it.
    if (this.mode === 'hang') return new Promise<T>(() => undefined);
    return fn();
  }
}

interface World {
  clock: FakeClock;
  api: FakeLeaseClient;
  registry: Registry;
}

function world(): World {
  return { clock: new FakeClock(0), api: new FakeLeaseClient(), registry: new Registry() };
}

interface CandidateOptions extends Partial<LeaderElectorOptions> {
  /** 'manual': the guarded work ends only when finishWork() is called, not when its signal aborts. */
  work?: 'until-aborted' | 'manual';
  random?: () => number;
  /** Runs inside onNewLeader, after the candidate recorded it. */
  onNewLeader?: (identity: string) => void;
}

function candidate(w: World, identity: string, options: CandidateOptions = {}) {
  const client = new CandidateClient(w.api, w.clock);
  const events: string[] = [];
  const newLeaders: string[] = [];
  const stopped: StopReason[] = [];
  let leadingSignal: AbortSignal | undefined;
  let finishWork: () => void = () => undefined;
  const { logger, lines } = captureLogs();
  const elector = new LeaderElector({
    lock: new LeaseLock({ client, namespace: NS, name: NAME, identity }),
    clock: w.clock,
    wallClock: () => new Date(WALL_EPOCH + w.clock.now()),
    random: () => 0,
    registry: w.registry,
    logger,
    name: NAME,
    ...options,
    callbacks: {
      onStartedLeading(signal) {
        leadingSignal = signal;
        events.push(`started@${w.clock.now()}`);
        return new Promise<void>((resolve) => {
          finishWork = () => {
            events.push(`work-done@${w.clock.now()}`);
            resolve();
          };
          if (options.work !== 'manual') signal.addEventListener('abort', finishWork, { once: true });
        });
      },
      onStoppedLeading(reason) {
        stopped.push(reason);
        events.push(`stopped:${reason}@${w.clock.now()}`);
      },
      onNewLeader(id) {
        newLeaders.push(id);
        options.onNewLeader?.(id);
      },
    },
  });
  const stop = new AbortController();
  let result: LeaderElectionResult | undefined;
  const running = elector.run(stop.signal).then((r) => (result = r));
  return {
    elector,
    client,
    events,
    newLeaders,
    stopped,
    lines,
    stop,
    running,
    leadingSignal: () => leadingSignal,
    finishWork: () => {
      finishWork();
    },
    result: () => result,
  };
}

function putLease(w: World, spec: LeaseSpec): Lease {
  return w.api.put({ metadata: { name: NAME, namespace: NS }, spec });
}

const stored = (w: World): LeaseSpec | undefined => w.api.peek(NS, NAME)?.spec;

describe('LeaderElector: construction', () => {
  it('validates timings and identity', () => {
    const w = world();
    const lock = new LeaseLock({ client: w.api, namespace: NS, name: NAME, identity: 'a' });
    const callbacks = { onStartedLeading: () => undefined };
    expect(() => new LeaderElector({ lock, callbacks, leaseDurationMs: 5_000 })).toThrow(
      /leaseDurationMs \(5000\) must be greater than renewDeadlineMs \(10000\)/,
    );
    expect(() => new LeaderElector({ lock, callbacks, renewDeadlineMs: 2_000 })).toThrow(
      LeaderElectionConfigError,
    );
    const anonymous = new LeaseLock({ client: w.api, namespace: NS, name: NAME, identity: '' });
    expect(() => new LeaderElector({ lock: anonymous, callbacks })).toThrow(/identity must not be empty/);
    expect(() => new LeaderElector({ lock, callbacks, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
    expect(new LeaderElector({ lock, callbacks }).timings).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it('can run only once', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await flush();
    await expect(a.elector.run(new AbortController().signal)).rejects.toThrow(/can only run once/);
    a.stop.abort();
    await a.running;
  });
});

describe('LeaderElector: acquiring', () => {
  it('creates the Lease when none exists and starts leading at once', async () => {
    const w = world();
    await advance(w.clock, 5);
    const a = candidate(w, 'a');
    await flush();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['started@5']);
    // As in client-go, the renew loop's first renewal follows the acquisition at once.
    expect(a.client.calls.map((c) => c.op)).toEqual(['get', 'create', 'update']);
    expect(stored(w)).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: wallAt(5),
      renewTime: wallAt(5),
      leaseTransitions: 0,
    });
    expect(a.leadingSignal()?.aborted).toBe(false);
    a.stop.abort();
    await a.running;
  });

  it('logs a Lease refused by RBAC at error, naming the verb, and a transient failure at warn', async () => {
    const w = world();
    const denied = (verb: string) =>
      new ApiError(403, {
        kind: 'Status',
        reason: 'Forbidden',
        message: `leases.coordination.k8s.io "lock" is forbidden: cannot ${verb} resource "leases"`,
      });
    w.api.hook = (op) => {
      if (op === 'create') throw denied('create');
    };
    const a = candidate(w, 'a');
    await flush();
    expect(a.elector.isLeader()).toBe(false);
    const create = a.lines.find((l) => l.msg === 'error initially creating lease');
    expect(create).toMatchObject({ level: 50 });
    expect(create?.err).toMatchObject({ type: 'ApiError' });
    expect((create?.err as { message?: unknown }).message).toContain('cannot create resource "leases"');

    w.api.hook = (op) => {
      if (op === 'get') throw denied('get');
    };
    await advance(w.clock, 4_400);
    expect(a.lines.find((l) => l.msg === 'error retrieving lease')).toMatchObject({ level: 50 });

    w.api.hook = undefined;
    a.client.mode = 'fail';
    const before = a.lines.length;
    await advance(w.clock, 4_400);
    expect(a.lines.slice(before).find((l) => l.msg === 'error retrieving lease')).toMatchObject({
      level: 40,
    });
    a.stop.abort();
    await a.running;
  });

  it('does not take a held Lease until 15 s after IT saw it change, however old its renewTime says it is', async () => {
    const w = world();
    // The holder's clock is far behind: by its renewTime the lease expired decades ago.
    putLease(w, {
      holderIdentity: 'other',
      leaseDurationSeconds: 15,
      renewTime: '2000-01-01T00:00:00.000000Z',
      acquireTime: '2000-01-01T00:00:00.000000Z',
      leaseTransitions: 4,
    });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 14_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('other');
    expect(stored(w)?.holderIdentity).toBe('other');
    // Attempts every 2 s (random 0): at 14 s the lease seen at 0 s is still valid; at 16 s it is not.
    await advanceTo(w.clock, 15_999);
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 16_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.events).toEqual(['started@16000']);
    expect(stored(w)).toMatchObject({
      holderIdentity: 'b',
      leaseTransitions: 5,
      acquireTime: wallAt(16_000),
    });
    b.stop.abort();
    await b.running;
  });

  it('does not take a held Lease early either when its renewTime lies in the future', async () => {
    const w = world();
    putLease(w, {
      holderIdentity: 'other',
      leaseDurationSeconds: 15,
      renewTime: '2999-01-01T00:00:00.000000Z',
    });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 15_999);
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 16_000);
    expect(b.elector.isLeader()).toBe(true);
    b.stop.abort();
    await b.running;
  });

  it('restarts its wait whenever the holder renews, and takes over 15 s after the last renewal it saw', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'r0' });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 9_000);
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'r1' }); // seen at 10 s
    await advanceTo(w.clock, 24_000);
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 26_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(b.events).toEqual(['started@26000']);
    b.stop.abort();
    await b.running;
  });

  it('judges expiry by the holder’s declared leaseDurationSeconds', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 3, renewTime: 'r0' });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 3_999);
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 4_000);
    expect(b.elector.isLeader()).toBe(true);
    b.stop.abort();
    await b.running;
  });

  it('takes a released Lease (empty holder) at its first attempt, as a transition', async () => {
    const w = world();
    putLease(w, { holderIdentity: '', leaseDurationSeconds: 1, renewTime: wallAt(0), leaseTransitions: 3 });
    const b = candidate(w, 'b');
    await flush();
    expect(b.elector.isLeader()).toBe(true);
    expect(stored(w)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4, leaseDurationSeconds: 15 });
    b.stop.abort();
    await b.running;
  });

  it('does not acquire when its update gets a 409 (another candidate won the race)', async () => {
    const w = world();
    putLease(w, { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
    w.api.hook = (op, lease) => {
      // Between b's read and b's write, "winner" takes the lease.
      if (op === 'update' && lease?.spec.holderIdentity === 'b') {
        w.api.hook = undefined;
        putLease(w, {
          holderIdentity: 'winner',
          leaseDurationSeconds: 15,
          renewTime: 'w',
          leaseTransitions: 1,
        });
      }
    };
    const b = candidate(w, 'b');
    await flush();
    expect(b.elector.isLeader()).toBe(false);
    expect(b.events).toEqual([]);
    expect(stored(w)?.holderIdentity).toBe('winner');
    await advanceTo(w.clock, 2_000); // next attempt sees the winner
    expect(b.elector.getLeader()).toBe('winner');
    expect(b.elector.isLeader()).toBe(false);
    b.stop.abort();
    await b.running;
  });

  it('lets exactly one of two simultaneous candidates create the Lease', async () => {
    const w = world();
    const a = candidate(w, 'a');
    const b = candidate(w, 'b');
    await flush();
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    await advanceTo(w.clock, 30_000); // a keeps renewing, so b never takes over
    expect(b.elector.isLeader()).toBe(false);
    expect(stored(w)).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.running, b.running]);
  });

  it('waits retryPeriod x (1 + random x 1.2) between acquire attempts: 2 to 4.4 s', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 3600, renewTime: 'r' });
    const draws = [0, 0.5, 0.999_999, 0.25];
    let i = 0;
    const b = candidate(w, 'b', { random: () => draws[i++ % draws.length] ?? 0 });
    await advanceTo(w.clock, 13_000);
    const attempts = b.client.calls.filter((c) => c.op === 'get').map((c) => c.at);
    expect(attempts).toEqual([0, 2_000, 5_200, 9_600, 12_200]);
    const gaps = attempts.slice(1).map((t, k) => t - (attempts[k] ?? 0));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(2_000);
      expect(gap).toBeLessThanOrEqual(4_400);
    }
    b.stop.abort();
    await b.running;
  });

  it('returns cancelled-before-leading when cancelled while campaigning, leaving no timers behind', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: 'r' });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 3_000);
    b.stop.abort();
    await b.running;
    expect(b.result()).toEqual({ reason: 'cancelled-before-leading' });
    expect(b.events).toEqual([]);
    expect(b.stopped).toEqual([]);
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('hands the Lease straight back when it wins in the moment it is cancelled', async () => {
    const w = world();
    let b: ReturnType<typeof candidate> | undefined = undefined;
    // onNewLeader('b') runs right after the winning write, before the elector starts leading.
    b = candidate(w, 'b', { onNewLeader: (id) => id === 'b' && b?.stop.abort() });
    await b.running;
    expect(b.result()).toEqual({ reason: 'cancelled-before-leading' });
    expect(b.events).toEqual([]);
    expect(stored(w)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });
});

describe('LeaderElector: renewing', () => {
  it('renews every retry period with optimistic updates only, keeping acquireTime', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 10_000);
    const renewals = a.client.calls.slice(2);
    expect(renewals.map((c) => `${c.op}@${c.at}`)).toEqual([
      'update@0',
      'update@2000',
      'update@4000',
      'update@6000',
      'update@8000',
      'update@10000',
    ]);
    expect(stored(w)).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: wallAt(0),
      renewTime: wallAt(10_000),
      leaseTransitions: 0,
    });
    expect(metricValue(await w.registry.metrics(), 'leader_election_slowpath_total', { name: NAME })).toBe(0);
    a.stop.abort();
    await a.running;
  });

  it('falls back to the slow path when the optimistic update conflicts, and counts it', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    // Someone touches the object (not the record): the cached resourceVersion is stale now.
    const lease = w.api.peek(NS, NAME);
    if (!lease) throw new Error('no lease');
    w.api.put({ ...lease, metadata: { ...lease.metadata, labels: { touched: 'yes' } } });
    await advanceTo(w.clock, 2_000);
    expect(a.client.calls.slice(3).map((c) => c.op)).toEqual(['update', 'get', 'update']);
    expect(a.elector.isLeader()).toBe(true);
    expect(stored(w)).toMatchObject({
      holderIdentity: 'a',
      acquireTime: wallAt(0),
      renewTime: wallAt(2_000),
    });
    expect(metricValue(await w.registry.metrics(), 'leader_election_slowpath_total', { name: NAME })).toBe(1);
    a.stop.abort();
    await a.running;
  });

  it('survives renewal failures shorter than the renew deadline', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    a.client.mode = 'fail';
    await advanceTo(w.clock, 9_000); // attempts at 2, 4, 6, 8 s fail; the series' deadline is 12 s
    a.client.mode = 'ok';
    await advanceTo(w.clock, 10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.stopped).toEqual([]);
    expect(stored(w)?.renewTime).toBe(wallAt(10_000));
    a.stop.abort();
    await a.running;
  });

  it('loses leadership when renewals keep failing past the renew deadline, and aborts the leading signal', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    a.client.mode = 'fail';
    // The series starting at 2 s retries at 4, 6, 8, 10 s and gives up at its deadline, 12 s; the
    // last renewal that succeeded was sent at 0 s, so from 10 s on it is no longer the leader.
    await advanceTo(w.clock, 9_999);
    expect(a.elector.isLeader()).toBe(true);
    await advanceTo(w.clock, 11_999);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leadingSignal()?.aborted).toBe(false);
    await advanceTo(w.clock, 12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leadingSignal()?.aborted).toBe(true);
    expect(a.leadingSignal()?.reason).toBeInstanceOf(LeaderElectionLostError);
    expect(a.events).toEqual(['started@0', 'work-done@12000', 'stopped:lost@12000']);
    await a.running;
    const result = a.result();
    expect(result?.reason).toBe('lost');
    expect(result?.reason === 'lost' && result.error.message).toMatch(
      /failed to renew lease ns\/lock within 10000 ms/,
    );
    expect(a.client.calls.filter((c) => c.at > 2_000 && c.op === 'get').map((c) => c.at)).toEqual([
      4_000, 6_000, 8_000, 10_000,
    ]);
    expect(metricValue(await w.registry.metrics(), 'leader_election_master_status', { name: NAME })).toBe(0);
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('cannot be held past the renew deadline by calls that never return', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    a.client.mode = 'hang';
    await advanceTo(w.clock, 11_999);
    expect(a.leadingSignal()?.aborted).toBe(false);
    await advanceTo(w.clock, 12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.result()?.reason).toBe('lost');
    // Each call was cut off by the 5 s request timeout: fast-path update at 2 s, get at 7 s, and so on.
    expect(a.client.calls.slice(3).map((c) => `${c.op}@${c.at}`)).toEqual(['update@2000', 'get@7000']);
  });

  it('lets another candidate take over only after the lease duration, when the leader is already gone', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await flush();
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 1_000);
    a.client.mode = 'fail'; // last successful renewal: 0 s (b saw it at 0 s)
    await advanceTo(w.clock, 12_000);
    expect(a.result()?.reason).toBe('lost');
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 15_999);
    expect(b.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 16_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(stored(w)).toMatchObject({
      holderIdentity: 'b',
      leaseTransitions: 1,
      acquireTime: wallAt(16_000),
    });
    b.stop.abort();
    await b.running;
  });

  it('stops leading at the next renewal once someone else is the holder in the record', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    putLease(w, {
      holderIdentity: 'intruder',
      leaseDurationSeconds: 15,
      renewTime: 'x',
      leaseTransitions: 1,
    });
    await advanceTo(w.clock, 2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.stopped).toEqual(['lost']);
    expect(a.leadingSignal()?.aborted).toBe(true);
    const result = a.result();
    expect(result?.reason === 'lost' && result.error.message).toMatch(/now held by intruder/);
    expect(a.newLeaders).toEqual(['a', 'intruder']);
    expect(stored(w)?.holderIdentity).toBe('intruder'); // not released: it was not ours
  });
});

describe('LeaderElector: Retry-After', () => {
  const throttled = (seconds: number) =>
    new ApiError(429, 'Too many requests, please try again later.', seconds);

  it('waits out a 429 Retry-After longer than its retry period before the next acquire attempt', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 3600, renewTime: 'r' });
    let refusals = 1;
    w.api.hook = (op) => {
      if (op === 'get' && refusals-- > 0) throw throttled(30);
    };
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 33_000);
    expect(b.client.calls.map((c) => `${c.op}@${c.at}`)).toEqual(['get@0', 'get@30000', 'get@32000']);
    expect(b.lines.find((l) => l.msg === 'error retrieving lease')).toMatchObject({
      level: 40,
      retryAfterMs: 30_000,
    });
    b.stop.abort();
    await b.running;
  });

  it('keeps its retry period when the Retry-After is shorter', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'other', leaseDurationSeconds: 3600, renewTime: 'r' });
    let refusals = 1;
    w.api.hook = (op) => {
      if (op === 'get' && refusals-- > 0) throw throttled(1);
    };
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 4_000);
    expect(b.client.calls.map((c) => `${c.op}@${c.at}`)).toEqual(['get@0', 'get@2000', 'get@4000']);
    b.stop.abort();
    await b.running;
  });

  it('renews after a throttled renewal once Retry-After has passed, not on the slow path at once', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    let refusals = 1;
    w.api.hook = (op) => {
      if (op === 'update' && refusals-- > 0) throw throttled(3);
    };
    await advanceTo(w.clock, 6_000);
    expect(a.client.calls.slice(3).map((c) => `${c.op}@${c.at}`)).toEqual(['update@2000', 'update@5000']);
    expect(a.elector.isLeader()).toBe(true);
    a.stop.abort();
    await a.running;
  });

  it('loses the Lease at the renew deadline rather than renew before a Retry-After past it', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    w.api.hook = (op) => {
      if (op === 'update') throw throttled(30);
    };
    await advanceTo(w.clock, 12_000);
    expect(a.result()?.reason).toBe('lost');
    expect(a.client.calls.slice(3).map((c) => `${c.op}@${c.at}`)).toEqual(['update@2000']);
  });
});

describe('LeaderElector: leading only while its last renewal is fresh', () => {
  it('is not the leader once its last successful renewal started renewDeadline ago, until one succeeds', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    a.client.mode = 'fail'; // the last renewal that succeeded was sent at 0 s
    await advanceTo(w.clock, 9_999);
    expect(a.elector.isLeader()).toBe(true);
    // The attempt at 10 s succeeds, its answer read at 10.5 s: leading again from then on.
    a.client.mode = 'ok';
    let release: () => void = () => undefined;
    w.api.hook = () => new Promise<void>((resolve) => (release = resolve));
    await advanceTo(w.clock, 10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leadingSignal()?.aborted).toBe(false);
    const waited = a.elector.waitUntilLeader(new AbortController().signal);
    await advanceTo(w.clock, 10_499);
    expect(a.elector.isLeader()).toBe(false);
    w.api.hook = undefined;
    release();
    await flush();
    expect(a.elector.isLeader()).toBe(true);
    await expect(waited).resolves.toBeUndefined();
    a.stop.abort();
    await a.running;
  });

  it('counts a renewal from when it was sent: an answer read after a stall leaves the leader stale', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    let answer: () => void = () => undefined;
    w.api.hook = () => new Promise<void>((resolve) => (answer = resolve));
    await advanceTo(w.clock, 2_000); // the renewal is sent at 2 s...
    w.api.hook = undefined;
    w.clock.stall(20_000); // ...the process freezes for 20 s, then reads the answer first
    answer();
    await flush();
    expect(w.clock.now()).toBe(22_000);
    expect(stored(w)?.renewTime).toBe(wallAt(2_000));
    expect(a.elector.isLeader()).toBe(false);
    // Nobody took the Lease meanwhile: the next renewal, sent after the stall, makes it fresh again.
    await advanceTo(w.clock, 24_000);
    expect(stored(w)?.renewTime).toBe(wallAt(24_000));
    expect(a.elector.isLeader()).toBe(true);
    a.stop.abort();
    await a.running;
  });

  it('trusts the wall clock as a second opinion: a suspend the monotonic clock missed makes it stale', async () => {
    const w = world();
    let suspendedMs = 0;
    const a = candidate(w, 'a', { wallClock: () => new Date(WALL_EPOCH + w.clock.now() + suspendedMs) });
    await advanceTo(w.clock, 1_000);
    expect(a.elector.isLeader()).toBe(true);
    suspendedMs = 60_000;
    expect(a.elector.isLeader()).toBe(false);
    await advanceTo(w.clock, 2_000);
    expect(a.elector.isLeader()).toBe(true);
    a.stop.abort();
    await a.running;
  });

  it('is no longer the leader when the leading signal aborts on a loss, and wakes whoever waits', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 1_000);
    let leaderWhenAborted: boolean | undefined;
    a.leadingSignal()?.addEventListener('abort', () => (leaderWhenAborted = a.elector.isLeader()));
    a.client.mode = 'fail';
    await advanceTo(w.clock, 10_500);
    const waited = a.elector.waitUntilLeader(new AbortController().signal).catch((e: unknown) => e);
    await advanceTo(w.clock, 12_000);
    expect(a.result()?.reason).toBe('lost');
    expect(leaderWhenAborted).toBe(false);
    expect(await waited).toBeInstanceOf(LeaderElectionLostError);
    await expect(a.elector.waitUntilLeader(new AbortController().signal)).rejects.toBeInstanceOf(
      LeaderElectionLostError,
    );
  });
});

describe('LeaderElector: transitions, onNewLeader and metrics', () => {
  it('increments leaseTransitions only when the holder changes', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 6_000);
    expect(stored(w)?.leaseTransitions).toBe(0);
    const b = candidate(w, 'b');
    await flush();
    a.stop.abort(); // a releases: the holder becomes '' with the same count
    await a.running;
    expect(stored(w)).toMatchObject({ holderIdentity: '', leaseTransitions: 0 });
    await advanceTo(w.clock, 8_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(stored(w)?.leaseTransitions).toBe(1);
    await advanceTo(w.clock, 20_000);
    expect(stored(w)?.leaseTransitions).toBe(1);
    expect(b.elector.observedRecord?.leaseTransitions).toBe(1);
    b.stop.abort();
    await b.running;
  });

  it('calls onNewLeader each time the observed holder changes', async () => {
    const w = world();
    putLease(w, { holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: 'r0' });
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 2_000);
    putLease(w, { holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: 'r1' }); // same holder
    await advanceTo(w.clock, 4_000);
    putLease(w, { holderIdentity: 'y', leaseDurationSeconds: 15, renewTime: 'r2' });
    await advanceTo(w.clock, 6_000);
    putLease(w, { holderIdentity: '', leaseDurationSeconds: 1, renewTime: 'r3' });
    await advanceTo(w.clock, 8_000);
    expect(b.newLeaders).toEqual(['x', 'y', 'b']);
    b.stop.abort();
    await b.running;
  });

  it('exports master status, slow path count and the observed transitions', async () => {
    const w = world();
    putLease(w, { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 6 });
    const a = candidate(w, 'a', { work: 'manual' });
    expect(metricValue(await w.registry.metrics(), 'leader_election_master_status', { name: NAME })).toBe(0);
    await flush();
    expect(metricValue(await w.registry.metrics(), 'leader_election_master_status', { name: NAME })).toBe(1);
    expect(metricValue(await w.registry.metrics(), 'leader_election_lease_transitions', { name: NAME })).toBe(
      7,
    );
    expect(metricValue(await w.registry.metrics(), 'leader_election_slowpath_total', { name: NAME })).toBe(0);
    a.stop.abort();
    a.finishWork();
    await a.running;
    expect(metricValue(await w.registry.metrics(), 'leader_election_master_status', { name: NAME })).toBe(0);
    const text = await w.registry.metrics();
    expect(text).toContain('leader_election_master_status{name="lock"} 0');
    expect(text).toContain('leader_election_slowpath_total{name="lock"} 0');
    expect(text).toContain('leader_election_lease_transitions{name="lock"} 7');
  });
});

describe('LeaderElector: guarded work', () => {
  it('logs work that fails, keeps leading until cancelled, then releases at once', async () => {
    const w = world();
    const { logger, lines } = captureLogs();
    const lock = new LeaseLock({ client: w.api, namespace: NS, name: NAME, identity: 'a' });
    const stop = new AbortController();
    const elector = new LeaderElector({
      lock,
      clock: w.clock,
      logger,
      callbacks: {
        onStartedLeading: () => {
          throw new Error('boom');
        },
      },
    });
    const running = elector.run(stop.signal);
    await advanceTo(w.clock, 5_000);
    expect(lines.find((l) => l.msg === 'guarded work failed')).toMatchObject({
      err: { type: 'Error', message: 'boom' },
    });
    expect(elector.isLeader()).toBe(true);
    stop.abort();
    expect(await running).toEqual({ reason: 'released', releaseWritten: true });
    expect(stored(w)?.holderIdentity).toBe('');
  });
});

describe('LeaderElector: release on cancel', () => {
  it('keeps renewing while the guarded work drains, then writes an empty holder with 1 s', async () => {
    const w = world();
    const a = candidate(w, 'a', { work: 'manual' });
    await flush();
    const b = candidate(w, 'b');
    await advanceTo(w.clock, 3_000);
    a.stop.abort();
    await flush();
    expect(a.leadingSignal()?.aborted).toBe(true);
    // The work takes 30 s to stop, twice the lease duration: a must keep the lease meanwhile.
    await advanceTo(w.clock, 33_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(stored(w)).toMatchObject({ holderIdentity: 'a', renewTime: wallAt(32_000) });
    expect(w.api.requests.some((r) => r.lease?.spec.holderIdentity === '')).toBe(false);
    a.finishWork();
    await a.running;
    expect(a.result()).toEqual({ reason: 'released', releaseWritten: true });
    expect(stored(w)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: wallAt(33_000),
      renewTime: wallAt(33_000),
      leaseTransitions: 0,
    });
    expect(a.events).toEqual(['started@0', 'work-done@33000', 'stopped:released@33000']);
    expect(a.elector.isLeader()).toBe(false);
    // b takes the released lease at its next attempt instead of waiting out a lease duration.
    await advanceTo(w.clock, 34_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(stored(w)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    b.stop.abort();
    await b.running;
    expect(w.clock.pendingTimers()).toBe(0);
  });

  it('releases as soon as work that follows its signal has stopped', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 500);
    a.stop.abort();
    await a.running;
    expect(a.result()).toEqual({ reason: 'released', releaseWritten: true });
    expect(a.events).toEqual(['started@0', 'work-done@500', 'stopped:released@500']);
    expect(stored(w)?.holderIdentity).toBe('');
  });

  it('logs, and does not throw, when the release conflicts with someone who took the lease', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 500);
    w.api.hook = (op, lease) => {
      if (op === 'update' && lease?.spec.holderIdentity === '') {
        w.api.hook = undefined;
        putLease(w, {
          holderIdentity: 'thief',
          leaseDurationSeconds: 15,
          renewTime: 't',
          leaseTransitions: 1,
        });
      }
    };
    a.stop.abort();
    await a.running;
    expect(a.result()).toEqual({ reason: 'released', releaseWritten: false });
    expect(stored(w)?.holderIdentity).toBe('thief');
    expect(a.lines.some((l) => l.msg === 'lease is no longer ours, nothing to release')).toBe(true);
  });

  it('gives up after repeated release conflicts and logs an error', async () => {
    const w = world();
    const a = candidate(w, 'a');
    await advanceTo(w.clock, 500);
    w.api.hook = (op, lease) => {
      // Someone keeps touching the object (without taking the record) right before each release write.
      if (op === 'update' && lease?.spec.holderIdentity === '') {
        const current = w.api.peek(NS, NAME);
        if (current) w.api.put(current);
      }
    };
    a.stop.abort();
    await a.running;
    expect(a.result()).toEqual({ reason: 'released', releaseWritten: false });
    expect(
      w.api.requests.filter((r) => r.op === 'update' && r.lease?.spec.holderIdentity === ''),
    ).toHaveLength(3);
    expect(a.lines.find((l) => l.msg === 'failed to release lease')?.level).toBe(50);
  });

  it('does not release after losing the lease during the drain', async () => {
    const w = world();
    const a = candidate(w, 'a', { work: 'manual' });
    await advanceTo(w.clock, 500);
    a.stop.abort();
    await advanceTo(w.clock, 1_000);
    putLease(w, {
      holderIdentity: 'intruder',
      leaseDurationSeconds: 15,
      renewTime: 'x',
      leaseTransitions: 1,
    });
    await advanceTo(w.clock, 2_000);
    expect(a.result()?.reason).toBe('lost');
    expect(a.stopped).toEqual(['lost']);
    a.finishWork();
    await flush();
    expect(stored(w)?.holderIdentity).toBe('intruder');
  });
});
