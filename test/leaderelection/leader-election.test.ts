// Leader election against the real API server, on the real clock with short timings: lease 3 s,
// renew deadline 2 s, retry period 0.5 s (acquire attempts every 0.5 to 1.1 s).
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpRestClient } from '../../src/client/index.ts';
import {
  LeaderElector,
  RestLeaseClient,
  LeaseLock,
  type Lease,
  type LeaseClient,
  type LeaderElectionResult,
  type StopReason,
} from '../../src/leaderelection/index.ts';
import { adminKubeConfig, adminRestConfig, createNamespace } from '../helpers/cluster.ts';
import { eventually } from '../../src/testing/index.ts';

const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
/** Longest wait between acquire attempts: retryPeriod × (1 + 1.2). */
const MAX_ACQUIRE_WAIT_MS = TIMINGS.retryPeriodMs * 2.2;
/** Room for API round trips and timer lateness on a loaded machine. */
const SLACK_MS = 400;
const LEASE = 'pod-sync-operator-leader';

const kc = adminKubeConfig();
const api = kc.makeApiClient(CoordinationV1Api);
const now = (): number => performance.now();

/** A candidate's own client to the API server that a test can break, and that timestamps its writes. */
class TestLeaseClient implements LeaseClient {
  readonly #inner = new RestLeaseClient(HttpRestClient.fromConfig(adminRestConfig()));
  failing = false;
  firstFailureAt: number | undefined;
  lastSuccessfulWriteAt: number | undefined;
  releasedAt: number | undefined;

  get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined> {
    return this.#guard(() => this.#inner.get(namespace, name, signal));
  }

  create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    return this.#write(lease, () => this.#inner.create(lease, signal));
  }

  update(lease: Lease, signal: AbortSignal): Promise<Lease> {
    return this.#write(lease, () => this.#inner.update(lease, signal));
  }

  async #write(lease: Lease, call: () => Promise<Lease>): Promise<Lease> {
    const written = await this.#guard(call);
    if (lease.spec.holderIdentity === '') this.releasedAt = now();
    else this.lastSuccessfulWriteAt = now();
    return written;
  }

  #guard<T>(call: () => Promise<T>): Promise<T> {
    if (!this.failing) return call();
    this.firstFailureAt ??= now();
    return Promise.reject(new Error('injected: API server unreachable'));
  }
}

interface Candidate {
  identity: string;
  elector: LeaderElector;
  client: TestLeaseClient;
  stop: AbortController;
  running: Promise<LeaderElectionResult>;
  startedAt: number | undefined;
  stoppedAt: number | undefined;
  stopReason: StopReason | undefined;
  workDoneAt: number | undefined;
  newLeaders: string[];
  leadingSignal: AbortSignal | undefined;
}

const candidates: Candidate[] = [];

afterEach(async () => {
  for (const c of candidates) c.stop.abort();
  await Promise.all(candidates.map((c) => c.running));
  candidates.length = 0;
});

/** Starts a candidate whose guarded work takes `drainMs` to stop once its signal aborts. */
function candidate(namespace: string, identity: string, drainMs = 0): Candidate {
  const client = new TestLeaseClient();
  const c: Candidate = {
    identity,
    client,
    stop: new AbortController(),
    startedAt: undefined,
    stoppedAt: undefined,
    stopReason: undefined,
    workDoneAt: undefined,
    newLeaders: [],
    leadingSignal: undefined,
    elector: new LeaderElector({
      ...TIMINGS,
      lock: new LeaseLock({ client, namespace, name: LEASE, identity }),
      callbacks: {
        onStartedLeading: (signal) => {
          c.startedAt = now();
          c.leadingSignal = signal;
          return new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              setTimeout(() => {
                c.workDoneAt = now();
                resolve();
              }, drainMs);
            });
          });
        },
        onStoppedLeading: (reason) => {
          c.stoppedAt = now();
          c.stopReason = reason;
        },
        onNewLeader: (id) => c.newLeaders.push(id),
      },
    }),
    running: Promise.resolve({ reason: 'cancelled-before-leading' }),
  };
  c.running = c.elector.run(c.stop.signal);
  candidates.push(c);
  return c;
}

async function leaseSpec(namespace: string) {
  return (await api.readNamespacedLease({ name: LEASE, namespace })).spec;
}

async function soleLeader(group: Candidate[]): Promise<Candidate> {
  await eventually(() => Promise.resolve(group.filter((c) => c.elector.isLeader()).length === 1), 10_000, 20);
  const leader = group.find((c) => c.elector.isLeader());
  if (!leader) throw new Error('no leader');
  return leader;
}

describe('leader election against the API server', () => {
  it('lets exactly one of three racing candidates lead, and the Lease names it', async () => {
    const namespace = await createNamespace('le-race');
    const group = ['a', 'b', 'c'].map((id) => candidate(namespace, id));
    const leader = await soleLeader(group);

    // Watch for a few lease durations: never two leaders, never a change of leader.
    const until = now() + 2 * TIMINGS.leaseDurationMs;
    while (now() < until) {
      expect(group.filter((c) => c.elector.isLeader()).map((c) => c.identity)).toEqual([leader.identity]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const spec = await leaseSpec(namespace);
    expect(spec).toMatchObject({
      holderIdentity: leader.identity,
      leaseDurationSeconds: 3,
      leaseTransitions: 0,
    });
    expect(String(spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    for (const c of group) expect(c.newLeaders).toEqual([leader.identity]);
  });

  it('releases on cancel after the work drained, and another candidate leads within a retry period', async () => {
    const namespace = await createNamespace('le-release');
    const group = ['a', 'b', 'c'].map((id) => candidate(namespace, id, 300));
    const leader = await soleLeader(group);
    const others = group.filter((c) => c !== leader);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const cancelledAt = now();
    leader.stop.abort();
    const result = await leader.running;
    expect(result).toEqual({ reason: 'released', releaseWritten: true });
    expect(leader.leadingSignal?.aborted).toBe(true);
    // The release was written only after the guarded work had stopped (300 ms after the cancel).
    expect(leader.workDoneAt).toBeGreaterThanOrEqual(cancelledAt + 290);
    expect(leader.client.releasedAt).toBeGreaterThanOrEqual(leader.workDoneAt ?? Infinity);
    expect(leader.stopReason).toBe('released');

    const next = await soleLeader(others);
    const releasedAt = leader.client.releasedAt ?? Infinity;
    // Taken at the next acquire attempt, not after the 3 s lease duration.
    expect((next.startedAt ?? Infinity) - releasedAt).toBeLessThan(MAX_ACQUIRE_WAIT_MS + SLACK_MS);
    expect((next.startedAt ?? Infinity) - cancelledAt).toBeLessThan(TIMINGS.leaseDurationMs);
    expect(await leaseSpec(namespace)).toMatchObject({ holderIdentity: next.identity, leaseTransitions: 1 });
  });

  it('loses leadership when renewals fail for the renew deadline; another leads only after the lease duration', async () => {
    const namespace = await createNamespace('le-fail');
    const group = ['a', 'b'].map((id) => candidate(namespace, id));
    const leader = await soleLeader(group);
    const [other] = group.filter((c) => c !== leader);
    if (!other) throw new Error('no other candidate');
    await new Promise((resolve) => setTimeout(resolve, 700));

    leader.client.failing = true;
    const result = await leader.running;
    expect(result.reason).toBe('lost');
    expect(leader.stopReason).toBe('lost');
    expect(leader.leadingSignal?.aborted).toBe(true);
    const firstFailure = leader.client.firstFailureAt ?? Infinity;
    const lostAt = leader.stoppedAt ?? Infinity;
    // It kept retrying until the renew deadline, and gave up then.
    expect(lostAt - firstFailure).toBeGreaterThanOrEqual(TIMINGS.renewDeadlineMs - 50);
    expect(lostAt - firstFailure).toBeLessThan(TIMINGS.renewDeadlineMs + SLACK_MS);

    await soleLeader([other]);
    const lastRenewal = leader.client.lastSuccessfulWriteAt ?? Infinity;
    const takenAt = other.startedAt ?? -Infinity;
    // Never two leaders: the old one had stopped before the new one started...
    expect(takenAt).toBeGreaterThan(lostAt);
    // ...which the new one only did once the lease it last saw renewed had run out.
    expect(takenAt - lastRenewal).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - 100);
    // At worst it saw that renewal one acquire wait late, and tried again one acquire wait after expiry.
    expect(takenAt - lastRenewal).toBeLessThan(TIMINGS.leaseDurationMs + 2 * MAX_ACQUIRE_WAIT_MS + SLACK_MS);
    expect(await leaseSpec(namespace)).toMatchObject({ holderIdentity: other.identity, leaseTransitions: 1 });
  });

  it('stops leading at its next renewal when someone else writes their identity into the Lease', async () => {
    const namespace = await createNamespace('le-overwrite');
    const group = ['a', 'b'].map((id) => candidate(namespace, id));
    const leader = await soleLeader(group);
    const [other] = group.filter((c) => c !== leader);
    await new Promise((resolve) => setTimeout(resolve, 700));

    const lease = await api.readNamespacedLease({ name: LEASE, namespace });
    if (!lease.spec) throw new Error('lease has no spec');
    lease.spec.holderIdentity = 'intruder';
    lease.spec.renewTime = new V1MicroTime();
    lease.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1;
    await api.replaceNamespacedLease({ name: LEASE, namespace, body: lease });
    const overwrittenAt = now();

    const result = await leader.running;
    expect(result.reason).toBe('lost');
    expect(result.reason === 'lost' && result.error.message).toMatch(/now held by intruder/);
    expect(leader.leadingSignal?.aborted).toBe(true);
    expect((leader.stoppedAt ?? Infinity) - overwrittenAt).toBeLessThan(TIMINGS.retryPeriodMs + SLACK_MS);
    // Nobody takes the intruder's fresh lease, and the old leader did not "release" it.
    await eventually(() => Promise.resolve(other?.newLeaders.includes('intruder') ?? false), 3_000, 20);
    expect(other?.elector.isLeader()).toBe(false);
    expect(await leaseSpec(namespace)).toMatchObject({ holderIdentity: 'intruder' });
  });
});
