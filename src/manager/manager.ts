import type { Logger } from 'pino';
import { loggerOr } from '../logging/index.ts';
import type { Registry } from 'prom-client';
import { realClock, type Clock } from '../clock/index.ts';
import type { LeaderGate } from '../controllers/index.ts';
import { waitForCacheSync } from '../informers/index.ts';
import { LeaderElector, type LeaderElectorOptions } from '../leaderelection/index.ts';
import { CACHE_SYNC_TIMEOUT_MS } from './defaults.ts';
import type { Cache, Runnable, Server } from './runnable.ts';

export interface ManagerOptions {
  /** What runs, for the start-up line "starting <name>". */
  name: string;
  /** More fields of the start-up line, besides the URLs of the servers. */
  startFields?: Record<string, unknown>;
  /** Hold this Lease before any leader runnable starts; absent: they start once the caches have synced. */
  leaderElection?: Omit<LeaderElectorOptions, 'callbacks' | 'logger' | 'registry'>;
  /** How long the caches may take to sync, in ms; CACHE_SYNC_TIMEOUT_MS (2 min) by default. */
  cacheSyncTimeoutMs?: number;
  /** The API client the runnables share: closed once everything has stopped, as the manager's cluster. */
  client?: { close(): Promise<void> };
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

/** The caches did not sync within the cache-sync timeout: the process exits 1. */
export class CacheSyncTimeoutError extends Error {
  override name = 'CacheSyncTimeoutError';
}

/** The gate of leader runnables when nothing is elected: every replica leads. */
const ALWAYS_LEADER: LeaderGate = {
  isLeader: () => true,
  waitUntilLeader: () => Promise.resolve(),
};

/**
 * Runs everything in the order controller-runtime's manager does (pkg/manager/internal.go Start,
 * runnable_group.go), and stops it in reverse:
 *
 * 1. servers: listen (probes answer from now on);
 * 2. runnables without needLeaderElection, started before the caches so they see them fill (the heap
 *    budget); controller-runtime starts its "Others" after the caches;
 * 3. caches: started, then waited for once, until every runnable's hasSynced() (cache-sync timeout:
 *    the manager fails);
 * 4. the leader elector, when configured, then the leader runnables once it leads; without it, the
 *    leader runnables at once. One path: they get a signal that aborts when leading ends, or on stop.
 *
 * Stop, on `signal` or on the first failure: the leader runnables stop (a Controller drains, or not
 * after a lost Lease, see Controller.start), the Lease is released, then the caches, the other
 * runnables and the servers stop; then the client closes and "stopped" is logged. A lost Lease
 * stops the leader runnables at once and fails.
 */
export class Manager {
  /** What leader runnables check before each piece of leader-only work: the elector, or always open. */
  readonly leaderGate: LeaderGate;
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #elector: LeaderElector | undefined;
  readonly #servers: (() => Promise<Server>)[] = [];
  readonly #caches: Cache[] = [];
  readonly #others: Runnable[] = [];
  readonly #leaders: Runnable[] = [];
  #started = false;
  /** The leader runnables until they have all stopped; #lead awaits it after a lost Lease. */
  #leading: Promise<void> = Promise.resolve();
  /** The first failure: what start() resolves with. */
  #failure: Error | undefined;
  readonly #stop = new AbortController();

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger);
    const election = options.leaderElection;
    this.#elector =
      election &&
      new LeaderElector({
        ...election,
        logger: this.#log,
        ...(options.registry ? { registry: options.registry } : {}),
        callbacks: {
          onStartedLeading: (leading) => {
            this.#log.info({ identity: election.lock.identity }, 'became the leader: starting workers');
            return this.#startLeaders(leading);
          },
          onNewLeader: (holder) => {
            if (holder && holder !== election.lock.identity)
              this.#log.info({ leader: holder }, 'another replica leads');
          },
        },
      });
    this.leaderGate = this.#elector ?? ALWAYS_LEADER;
  }

  /** A server to listen before anything else starts; it is closed last. Undefined: a server turned off. */
  addServer(listen: (() => Promise<Server>) | undefined): void {
    if (listen) this.#servers.push(listen);
  }

  /** Informers to start on every replica before the leader runnables. */
  addCache(cache: Cache): void {
    this.#caches.push(cache);
  }

  add(runnable: Runnable): void {
    (runnable.needLeaderElection ? this.#leaders : this.#others).push(runnable);
  }

  /** True once every runnable's caches have synced, else what they wait for: the /readyz check. */
  cachesSynced(): true | string {
    const pending = this.#unsyncedCaches();
    return pending.length === 0 || `caches not synced: ${pending.join(', ')}`;
  }

  /**
   * Starts everything, and stops it all once `signal` aborts or something fails. Resolves when all
   * has stopped: with undefined after `signal`, or with the failure, already logged (the cache-sync
   * timeout, a lost Lease, a runnable that rejected). Rejects, after closing what had started, when a
   * server cannot start: the caller reports that.
   */
  async start(signal: AbortSignal): Promise<Error | undefined> {
    if (this.#started) throw new Error('the manager can only start once');
    this.#started = true;
    const onSignal = (): void => {
      this.#stop.abort(signal.reason);
    };
    if (signal.aborted) onSignal();
    signal.addEventListener('abort', onSignal, { once: true });
    const servers: Server[] = [];
    const others = new AbortController();
    const othersDone: Promise<void>[] = [];
    const caches = new AbortController();
    try {
      for (const listen of this.#servers) servers.push(await listen());
      this.#log.info(
        { ...this.#options.startFields, servers: servers.map((s) => s.url) },
        `starting ${this.#options.name}`,
      );
      for (const runnable of this.#others) othersDone.push(this.#run(runnable, others.signal));
      for (const cache of this.#caches) cache.start(caches.signal);
      if (!(await this.#waitForCaches())) return this.#failure;
      this.#log.info('caches synced');
      await this.#lead();
      return this.#failure;
    } finally {
      signal.removeEventListener('abort', onSignal);
      caches.abort();
      await Promise.all(this.#caches.map((cache) => cache.shutdown()));
      others.abort();
      await Promise.all(othersDone);
      await Promise.all(servers.map((server) => server.close()));
      await this.#options.client?.close();
      this.#log.info('stopped');
    }
  }

  /** The one cache-sync wait: false when stopped meanwhile, or (logged) on timeout. */
  async #waitForCaches(): Promise<boolean> {
    const timeoutMs = this.#options.cacheSyncTimeoutMs ?? CACHE_SYNC_TIMEOUT_MS;
    const syncables = [...this.#others, ...this.#leaders].filter(hasSyncCheck);
    const stop = this.#stop.signal;
    if (await waitForCacheSync(syncables, { clock: this.#clock, timeoutMs, signal: stop })) return true;
    if (stop.aborted) return false;
    const pending = this.#unsyncedCaches().join(', ');
    const err = new CacheSyncTimeoutError(`caches not synced within ${timeoutMs} ms: ${pending}`);
    this.#log.error(
      { err, timeoutMs },
      `caches did not sync in time (${pending}): is the API server reachable, and may this identity list and watch them?`,
    );
    this.#fail(err);
    return false;
  }

  /** Runs the leader runnables, behind the elector when there is one; resolves once they stopped. */
  async #lead(): Promise<void> {
    if (!this.#elector) {
      await this.#startLeaders(this.#stop.signal);
      return;
    }
    const result = await this.#elector.run(this.#stop.signal);
    // The elector logged "leader election lost" and aborted the leaders' signal: they stop undrained.
    if (result.reason === 'lost') this.#fail(result.error);
    await this.#leading;
  }

  #startLeaders(signal: AbortSignal): Promise<void> {
    this.#leading = Promise.all(this.#leaders.map((runnable) => this.#run(runnable, signal))).then(
      () => undefined,
    );
    return this.#leading;
  }

  /** Runs one runnable until `signal` aborts; a rejection is logged and stops everything. */
  async #run(runnable: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await runnable.start(signal);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#log.error({ err: error }, 'runnable failed: stopping');
      this.#fail(error);
    }
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#stop.abort(err);
  }

  #unsyncedCaches(): string[] {
    return [...this.#others, ...this.#leaders].flatMap((r) =>
      r.hasSynced === undefined || r.hasSynced() ? [] : (r.unsyncedCaches?.() ?? []),
    );
  }
}

function hasSyncCheck(runnable: Runnable): runnable is Runnable & { hasSynced(): boolean } {
  return runnable.hasSynced !== undefined;
}
