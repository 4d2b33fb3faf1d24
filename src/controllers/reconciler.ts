/** What a reconcile may ask for besides success; nothing means done until the next event. */
export interface ReconcileResult {
  /** Add the key again after this delay, without counting a failure. */
  requeueAfterMs?: number;
}

/** One sync of one key. Throwing means failure: the key is retried with backoff. */
export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

/** An error that retrying cannot fix: the key is forgotten at once rather than retried. */
export class TerminalError extends Error {
  override name = 'TerminalError';
}
