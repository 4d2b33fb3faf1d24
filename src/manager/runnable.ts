/**
 * Anything the manager runs: controller-runtime's Runnable (pkg/manager/manager.go). start() runs
 * until `signal` aborts, then stops and resolves; it rejects when it fails, which stops the manager.
 */
export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
  /**
   * True: starts only once this replica leads (after the Lease is won, or, without leader election,
   * once the caches have synced) and stops when leadership ends: controller-runtime's
   * LeaderElectionRunnable. False or absent: runs on every replica from before the caches fill.
   */
  readonly needLeaderElection?: boolean;
  /** Whether the caches it reads have synced; the manager waits for this once, before any leader runnable. */
  hasSynced?(): boolean;
  /** What those caches still wait for, e.g. ["pods"]: for readiness and the cache-sync timeout's line. */
  unsyncedCaches?(): string[];
}

/**
 * Informers the manager starts on every replica before the leader runnables, and stops after them:
 * client-go's SharedInformerFactory (Start, Shutdown), which src/informers' factory is.
 */
export interface Cache {
  /** Starts every informer not started yet; returns at once. */
  start(signal: AbortSignal): void;
  /** Stops every informer and resolves once each has finished. */
  shutdown(): Promise<void>;
}

/** An HTTP server the manager starts first and closes last, so probes answer while the caches fill. */
export interface Server {
  /** host:port bound, and http(s):// with it. */
  readonly url: string;
  close(): Promise<void>;
}
