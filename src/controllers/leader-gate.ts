/**
 * Whether this replica may do leader-only work at this instant; the leader elector is one
 * (LeaderElector.isLeader: it holds the Lease and its last renewal is fresher than the renew deadline).
 */
export interface LeaderGate {
  /** Checked right before each reconcile, with no await between the check and the call. */
  isLeader(): boolean;
  /**
   * Resolves when isLeader() may have turned true (after the next successful renewal); rejects once
   * leadership has ended, or with the signal's reason when it aborts.
   */
  waitUntilLeader(signal: AbortSignal): Promise<void>;
}
