import type { Clock } from '../clock/index.ts';
import { CACHE_SYNC_POLL_MS } from './defaults.ts';

/** Anything whose cache must be filled before it is read: client-go's InformerSynced. */
export interface Syncable {
  hasSynced(): boolean;
}

/**
 * Polls every CACHE_SYNC_POLL_MS (100 ms) until every one of `caches` has synced: true. False once
 * `timeoutMs` has passed on `clock`, or when `signal` aborts. client-go's tools/cache
 * WaitForCacheSync; the one cache-sync wait of the operator.
 */
export async function waitForCacheSync(
  caches: readonly Syncable[],
  options: { clock: Clock; timeoutMs: number; signal: AbortSignal },
): Promise<boolean> {
  const { clock, timeoutMs, signal } = options;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (caches.every((c) => c.hasSynced())) return true;
    const remaining = deadline - clock.now();
    if (remaining <= 0 || signal.aborted) return false;
    try {
      await clock.sleep(Math.min(CACHE_SYNC_POLL_MS, remaining), signal);
    } catch {
      return false;
    }
  }
}
