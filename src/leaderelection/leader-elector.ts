import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { isConflict, isDenied, retryAfterMs } from '../client/index.ts';
import { realClock, type Clock, abortable, deadline } from '../clock/index.ts';
import {
  resolveTimings,
  validateIdentity,
  LeaderElectionConfigError,
  type LeaderElectionTimings,
} from './config.ts';
import {
  JITTER_FACTOR,
  RELEASE_ATTEMPTS,
  RELEASED_LEASE_DURATION_SECONDS,
  requestTimeoutFor,
} from './defaults.ts';
import type { LeaderElectionLock } from './lease-lock.ts';
import { leaderElectionMetrics, type LeaderElectionMetricSet } from './metrics.ts';
import { formatMicroTime, sameRecord, type LeaderElectionRecord } from './record.ts';

/** Why leadership ended: the Lease could not be kept, or it was handed back after a cancel. */
export type StopReason = 'lost' | 'released';

export interface LeaderCallbacks {
  /**
   * Called once, when this candidate becomes leader. `signal` aborts when leadership is lost (reason:
   * LeaderElectionLostError) or when run()'s signal aborts (its reason). Return a promise that settles
   * once the guarded work has stopped: after a cancel the elector keeps renewing until it settles and
   * only then releases the Lease, so no one else leads while the work still runs. Its settling on its
   * own does not end leadership; abort run()'s signal for that.
   */
  onStartedLeading(signal: AbortSignal): Promise<void> | void;
  /** Called once when leadership that had started ends: after the release, or as soon as it is lost. */
  onStoppedLeading?(reason: StopReason): void;
  /** Called whenever the observed holder changes, including the first holder seen; '' means released. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  lock: LeaderElectionLock;
  callbacks: LeaderCallbacks;
  /** Label of the metrics and logs; the lock's describe() by default. */
  name?: string;
  /** Timeout of each API call; max(1 s, renewDeadline / 2) by default. */
  requestTimeoutMs?: number;
  /** Monotonic time for every wait and expiry judgement. */
  clock?: Clock;
  /** Wall time for the acquireTime/renewTime written to the Lease; never used to judge expiry. */
  wallClock?: () => Date;
  /** Uniform [0, 1) for the acquire jitter; Math.random by default. */
  random?: () => number;
  logger?: Logger;
  registry?: Registry;
}

/** Leadership ended without being given up: the process should stop its guarded work and exit non-zero. */
export class LeaderElectionLostError extends Error {
  override name = 'LeaderElectionLostError';
}

/**
 * How run() ended. 'lost' is the one to exit non-zero on (controller-runtime: "leader election lost").
 * 'released': cancelled while leading; the guarded work had stopped, then the Lease was handed back
 * (releaseWritten false when that write failed, e.g. someone else held the Lease by then).
 */
export type LeaderElectionResult =
  | { readonly reason: 'cancelled-before-leading' }
  | { readonly reason: 'released'; readonly releaseWritten: boolean }
  | { readonly reason: 'lost'; readonly error: LeaderElectionLostError };

/** One tryAcquireOrRenew: the lease is ours now, someone else validly holds it, or the attempt failed. */
type Attempt = 'ok' | 'held-by-other' | 'failed';

/**
 * client-go's LeaderElector over a LeaderElectionLock. It trusts only its own clock: a record's times are
 * compared for change, and a holder's lease counts as expired only once leaseDurationSeconds have passed
 * on this candidate's clock since it last saw the record change. Single use: run() once.
 */
export class LeaderElector {
  readonly name: string;
  readonly identity: string;
  readonly timings: Readonly<LeaderElectionTimings>;
  readonly #lock: LeaderElectionLock;
  readonly #callbacks: LeaderCallbacks;
  readonly #requestTimeoutMs: number;
  readonly #clock: Clock;
  readonly #wallClock: () => Date;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #metrics: LeaderElectionMetricSet;
  /** The record as last read or written, and when (this clock) it last changed. */
  #observed: LeaderElectionRecord | undefined;
  #observedAt = 0;
  /** The holder last passed to onNewLeader. */
  #reportedLeader = '';
  #leading = false;
  #started = false;
  #ended = false;
  /** When the last attempt that made or kept this candidate the holder was sent: monotonic and wall. */
  #renewedAt = -Infinity;
  #renewedAtWall = -Infinity;
  /** Woken by each successful renewal and when leadership ends. */
  readonly #renewalWaiters = new Set<() => void>();
  /** The API server asked for no request before this time (its Retry-After), on this clock. */
  #notBefore = -Infinity;

  constructor(options: LeaderElectorOptions) {
    this.timings = Object.freeze(resolveTimings(options));
    this.identity = validateIdentity(options.lock.identity);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? requestTimeoutFor(this.timings.renewDeadlineMs);
    if (!Number.isFinite(this.#requestTimeoutMs) || this.#requestTimeoutMs <= 0) {
      throw new LeaderElectionConfigError(
        `requestTimeoutMs must be a positive number of milliseconds, got ${this.#requestTimeoutMs}`,
      );
    }
    this.#lock = options.lock;
    this.#callbacks = options.callbacks;
    this.name = options.name ?? options.lock.describe();
    this.#clock = options.clock ?? realClock;
    this.#wallClock = options.wallClock ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#log = loggerOr(options.logger).child({
      lease: options.lock.describe(),
      identity: this.identity,
    });
    this.#metrics = leaderElectionMetrics(options.registry);
    this.#metrics.masterStatus.set({ name: this.name }, 0);
    this.#metrics.slowpath.inc({ name: this.name }, 0);
  }

  /**
   * Whether this candidate may act as the leader now: it holds the Lease, and its last successful
   * renewal was sent less than renewDeadline ago. That is client-go's timing contract
   * (leaseDuration > renewDeadline: a leader unable to renew stops before anyone may take over)
   * checked at the moment of asking, so a process that froze (GC pause, SIGSTOP, a suspended VM)
   * does nothing on waking until a renewal sent after the freeze succeeds. Judged on the monotonic
   * clock and, as a second opinion, the wall clock, which a suspend the monotonic clock does not
   * count still moves (a wall clock stepped forward only delays work until the next renewal).
   * client-go's IsLeader has no time component; check this right before each piece of leader-only work.
   */
  isLeader(): boolean {
    if (!this.#leading) return false;
    const { renewDeadlineMs } = this.timings;
    return (
      this.#clock.now() - this.#renewedAt < renewDeadlineMs &&
      this.#wallClock().getTime() - this.#renewedAtWall < renewDeadlineMs
    );
  }

  /**
   * Resolves at once while isLeader(), else at the next successful renewal (check isLeader() again:
   * a renewal whose answer came late may still be stale). Rejects with LeaderElectionLostError once
   * leadership has ended, and with the signal's reason when it aborts.
   */
  waitUntilLeader(signal: AbortSignal): Promise<void> {
    if (this.isLeader()) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.#ended) return Promise.reject(new LeaderElectionLostError('leadership has ended'));
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        if (this.#ended) reject(new LeaderElectionLostError('leadership has ended'));
        else resolve();
      };
      const onAbort = (): void => {
        this.#renewalWaiters.delete(wake);
        reject(signal.reason as Error);
      };
      this.#renewalWaiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The holder in the last observed record; '' if none was seen yet or the Lease is released. */
  getLeader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /** The record as this candidate last read or wrote it (leaseTransitions included). */
  get observedRecord(): LeaderElectionRecord | undefined {
    return this.#observed;
  }

  /**
   * Campaigns until this candidate leads, then leads until `signal` aborts or the Lease is lost; see
   * LeaderElectionResult. Rejects only when called a second time.
   */
  async run(signal: AbortSignal): Promise<LeaderElectionResult> {
    if (this.#started) throw new Error(`leader elector ${this.name} can only run once`);
    this.#started = true;
    if (!(await this.#acquire(signal))) {
      this.#end();
      return { reason: 'cancelled-before-leading' };
    }
    this.#setLeading(true);
    if (signal.aborted) {
      // Won in the same moment the caller gave up: no work started, so hand the Lease straight back.
      await this.#release();
      this.#setLeading(false);
      this.#end();
      return { reason: 'cancelled-before-leading' };
    }

    const leading = new AbortController();
    const stop = new AbortController(); // aborts once cancelled AND the guarded work has stopped
    let workDone = false;
    const stopIfDrained = (): void => {
      if (signal.aborted && workDone) stop.abort(signal.reason);
    };
    const onCancel = (): void => {
      this.#log.info('cancelled: stopping the guarded work before releasing the lease');
      leading.abort(signal.reason);
      stopIfDrained();
    };
    signal.addEventListener('abort', onCancel, { once: true });
    void this.#startWork(leading.signal).then(() => {
      workDone = true;
      stopIfDrained();
    });

    let lost: LeaderElectionLostError | undefined;
    try {
      lost = await this.#renewLoop(stop.signal);
    } finally {
      signal.removeEventListener('abort', onCancel);
    }
    if (lost) {
      // Not the leader any more before anyone hears of it: work checked from the abort on is refused.
      this.#setLeading(false);
      this.#end();
      leading.abort(lost);
      this.#log.error({ err: lost }, 'leader election lost');
      this.#notifyStopped('lost');
      return { reason: 'lost', error: lost };
    }
    const releaseWritten = await this.#release();
    this.#setLeading(false);
    this.#end();
    this.#notifyStopped('released');
    return { reason: 'released', releaseWritten };
  }

  /** Retries every retryPeriod × (1 + random × 1.2) until the Lease is ours; false when cancelled. */
  async #acquire(signal: AbortSignal): Promise<boolean> {
    this.#log.info('attempting to acquire leader lease');
    for (;;) {
      if (signal.aborted) return false;
      const attempt = await this.#tryAcquireOrRenew(signal);
      this.#maybeReportTransition();
      if (attempt === 'ok') {
        this.#log.info('successfully acquired lease');
        return true;
      }
      try {
        await this.#clock.sleep(Math.max(this.#jitteredRetryPeriod(), this.#retryAfterLeft()), signal);
      } catch {
        return false;
      }
    }
  }

  /** What remains of the pause the API server last asked for (Retry-After), in ms. */
  #retryAfterLeft(): number {
    return Math.max(0, this.#notBefore - this.#clock.now());
  }

  #jitteredRetryPeriod(): number {
    const retry = this.timings.retryPeriodMs;
    return retry + this.#random() * JITTER_FACTOR * retry;
  }

  /**
   * Renews every retryPeriod (counted from the end of the previous renewal). Resolves undefined when
   * `stop` aborts, or the reason leadership was lost.
   */
  async #renewLoop(stop: AbortSignal): Promise<LeaderElectionLostError | undefined> {
    for (;;) {
      const lost = await this.#renewSeries(stop);
      if (stop.aborted) return undefined;
      if (lost) return lost;
      try {
        await this.#clock.sleep(this.timings.retryPeriodMs, stop);
      } catch {
        return undefined;
      }
    }
  }

  /**
   * One renewal: attempts every retryPeriod (from each attempt's start), or after the API server's
   * Retry-After when that is longer, until one succeeds, all within renewDeadline. Seeing another
   * holder in the record ends it at once: that holder's lease is fresh by our own observation, so it
   * cannot expire before the deadline, and leading on meanwhile would mean two leaders. (client-go
   * keeps polling until the deadline in that case.)
   */
  async #renewSeries(stop: AbortSignal): Promise<LeaderElectionLostError | undefined> {
    const { renewDeadlineMs, retryPeriodMs } = this.timings;
    const series = deadline(this.#clock, renewDeadlineMs, 'lease renewal', stop);
    try {
      for (;;) {
        const started = this.#clock.now();
        const attempt = await this.#tryAcquireOrRenew(series.signal);
        this.#maybeReportTransition();
        if (attempt === 'ok') return undefined;
        if (attempt === 'held-by-other') {
          return new LeaderElectionLostError(
            `leader election lost: lease ${this.#lock.describe()} is now held by ${this.getLeader()}`,
          );
        }
        const wait = Math.max(started + retryPeriodMs - this.#clock.now(), this.#retryAfterLeft());
        try {
          await this.#clock.sleep(wait, series.signal);
        } catch {
          break;
        }
      }
    } finally {
      series.dispose();
    }
    return new LeaderElectionLostError(
      `leader election lost: failed to renew lease ${this.#lock.describe()} within ${renewDeadlineMs} ms`,
    );
  }

  /**
   * client-go's tryAcquireOrRenew. Never throws: failures are logged and reported as 'failed'. An
   * 'ok' counts as a renewal sent when the attempt began, however late its answer was read.
   */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const now = this.#clock.now();
    const wall = this.#wallClock();
    const wallNow = formatMicroTime(wall);
    const renewed = (): 'ok' => {
      this.#markRenewed(now, wall.getTime());
      return 'ok';
    };
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.floor(this.timings.leaseDurationMs / 1000),
      acquireTime: wallNow,
      renewTime: wallNow,
      leaseTransitions: 0,
    };

    // Fast path: while we validly hold the lease, write over the cached object without reading it.
    const held = this.#observed;
    if (held && this.#holdsObserved() && this.#observedLeaseValid(now)) {
      const renewal = { ...desired, acquireTime: held.acquireTime, leaseTransitions: held.leaseTransitions };
      try {
        await this.#request(signal, (s) => this.#lock.update(renewal, s));
        this.#observe(renewal);
        return renewed();
      } catch (err) {
        // Told to wait: the slow path now would be the retry the server asked us to hold back.
        if (this.#noteRetryAfter(err)) {
          this.#log.warn(this.#failure(err), 'failed to update lease');
          return 'failed';
        }
        this.#log.debug({ err }, 'optimistic lease update failed, falling back to slow path');
      }
    }

    // Slow path: read the record, create it if missing.
    let current: LeaderElectionRecord | undefined;
    try {
      current = await this.#request(signal, (s) => this.#lock.get(s));
    } catch (err) {
      this.#noteRetryAfter(err);
      this.#log[levelOf(err)](this.#failure(err), 'error retrieving lease');
      return 'failed';
    }
    if (!current) {
      try {
        await this.#request(signal, (s) => this.#lock.create(desired, s));
      } catch (err) {
        this.#noteRetryAfter(err);
        this.#log[levelOf(err)](this.#failure(err), 'error initially creating lease');
        return 'failed';
      }
      this.#observe(desired);
      return renewed();
    }

    // A change, of any field, restarts the holder's lease on our clock; its renewTime is never trusted.
    if (!sameRecord(this.#observed, current)) this.#observe(current);
    if (current.holderIdentity !== '' && this.#observedLeaseValid(now) && !this.#holdsObserved()) {
      this.#log.debug(
        { holder: current.holderIdentity },
        'lease is held by another candidate and not yet expired',
      );
      return 'held-by-other';
    }

    let update: LeaderElectionRecord;
    if (this.#holdsObserved()) {
      update = { ...desired, acquireTime: current.acquireTime, leaseTransitions: current.leaseTransitions };
      this.#metrics.slowpath.inc({ name: this.name });
    } else {
      update = { ...desired, leaseTransitions: current.leaseTransitions + 1 };
    }
    try {
      await this.#request(signal, (s) => this.#lock.update(update, s));
    } catch (err) {
      this.#noteRetryAfter(err);
      if (isConflict(err)) this.#log.info('another candidate updated the lease first');
      else this.#log[levelOf(err)](this.#failure(err), 'failed to update lease');
      return 'failed';
    }
    this.#observe(update);
    return renewed();
  }

  /**
   * Hands the Lease back after the guarded work stopped: empty holder, leaseDurationSeconds 1, so the
   * next candidate takes it at its next attempt. Reads first, so only a Lease still ours is written.
   * Bounded by renewDeadline, like client-go; failures are logged, not thrown.
   */
  async #release(): Promise<boolean> {
    const limit = deadline(this.#clock, this.timings.renewDeadlineMs, 'lease release');
    try {
      for (let attempt = 1; ; attempt++) {
        const current = await this.#request(limit.signal, (s) => this.#lock.get(s));
        if (!current) {
          this.#log.warn('lease not found, nothing to release');
          return false;
        }
        if (current.holderIdentity !== this.identity) {
          this.#log.warn({ holder: current.holderIdentity }, 'lease is no longer ours, nothing to release');
          return false;
        }
        const wallNow = formatMicroTime(this.#wallClock());
        const released: LeaderElectionRecord = {
          holderIdentity: '',
          leaseDurationSeconds: RELEASED_LEASE_DURATION_SECONDS,
          acquireTime: wallNow,
          renewTime: wallNow,
          leaseTransitions: current.leaseTransitions,
        };
        try {
          await this.#request(limit.signal, (s) => this.#lock.update(released, s));
          this.#observe(released);
          this.#log.info('released lease');
          return true;
        } catch (err) {
          if (!isConflict(err) || attempt >= RELEASE_ATTEMPTS) throw err;
          this.#log.debug('conflict while releasing lease, retrying from a fresh read');
        }
      }
    } catch (err) {
      this.#log.error({ err }, 'failed to release lease');
      return false;
    } finally {
      limit.dispose();
    }
  }

  /** One API call, limited by the request timeout and the caller's signal. */
  async #request<T>(signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = deadline(this.#clock, this.#requestTimeoutMs, 'lease request', signal);
    try {
      return await abortable(call(timeout.signal), timeout.signal);
    } finally {
      timeout.dispose();
    }
  }

  /** Starts the guarded work in a later microtask (client-go: a goroutine); never rejects. */
  #startWork(signal: AbortSignal): Promise<void> {
    return Promise.resolve()
      .then(() => this.#callbacks.onStartedLeading(signal))
      .then(
        () => {
          this.#log.info('guarded work stopped');
        },
        (err: unknown) => {
          this.#log.error({ err }, 'guarded work failed');
        },
      );
  }

  /** Remembers the pause the API server asked for with `err`; true when it asked for one. */
  #noteRetryAfter(err: unknown): boolean {
    const ms = retryAfterMs(err);
    if (ms === undefined) return false;
    this.#notBefore = Math.max(this.#notBefore, this.#clock.now() + ms);
    return true;
  }

  #failure(err: unknown): { err: unknown; retryAfterMs?: number } {
    const ms = retryAfterMs(err);
    return ms === undefined ? { err } : { err, retryAfterMs: ms };
  }

  #markRenewed(at: number, wallAt: number): void {
    this.#renewedAt = at;
    this.#renewedAtWall = wallAt;
    this.#wakeWaiters();
  }

  #end(): void {
    this.#ended = true;
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    const waiters = [...this.#renewalWaiters];
    this.#renewalWaiters.clear();
    for (const wake of waiters) wake();
  }

  #observe(record: LeaderElectionRecord): void {
    this.#observed = record;
    this.#observedAt = this.#clock.now();
    this.#metrics.transitions.set({ name: this.name }, record.leaseTransitions);
  }

  #holdsObserved(): boolean {
    return this.#observed?.holderIdentity === this.identity;
  }

  /** The observed holder's lease, by the duration it declared, counted from when we saw it change. */
  #observedLeaseValid(now: number): boolean {
    const seconds = this.#observed?.leaseDurationSeconds ?? 0;
    return this.#observedAt + seconds * 1000 > now;
  }

  #maybeReportTransition(): void {
    const holder = this.getLeader();
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    try {
      this.#callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.#log.error({ err }, 'onNewLeader callback failed');
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#metrics.masterStatus.set({ name: this.name }, leading ? 1 : 0);
  }

  #notifyStopped(reason: StopReason): void {
    try {
      this.#callbacks.onStoppedLeading?.(reason);
    } catch (err) {
      this.#log.error({ err }, 'onStoppedLeading callback failed');
    }
  }
}

/** Refused by RBAC (or with bad credentials): an error, since campaigning cannot succeed until fixed. */
function levelOf(err: unknown): 'error' | 'warn' {
  return isDenied(err) ? 'error' : 'warn';
}
