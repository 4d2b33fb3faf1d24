import type { Logger } from 'pino';
import { MAX_TIMER_DELAY_MS, type Clock } from '../clock/index.ts';
import { parseRetryAfter } from './retry-after.ts';
import type { TransportRequest, TransportResponse } from './transport.ts';

export interface RetryPolicy {
  /** Sends after the first; client-go's 10 by default (rest/request.go NewRequest). */
  maxRetries: number;
  clock: Clock;
  /** Wall time, for a Retry-After given as an HTTP-date. */
  wallNow: () => number;
  log: Logger;
}

/**
 * client-go's checkWait (rest/with_retry.go): the seconds the server asked to wait before the same
 * request may go again, for a 429 or any 5xx that carries a Retry-After; undefined for every other
 * answer, which goes back to the caller.
 */
export function retryWaitSeconds(response: TransportResponse, nowMs: number): number | undefined {
  if (response.status !== 429 && response.status < 500) return undefined;
  return parseRetryAfter(response.headers['retry-after'], nowMs);
}

/**
 * Sends `req`, and sends it again each time the answer is a 429 or 5xx with a Retry-After, after that
 * many seconds, at most policy.maxRetries times: client-go's Request.request and Request.Watch with
 * withRetry (IsNextRetry, Before). Every verb is retried, since our bodies are strings that can be
 * sent again; a watch is retried only while it is being opened. The last answer goes back as it is.
 * Rejects with the signal's reason when it aborts during a wait. The URL backoff client-go adds to the
 * wait is off by default there and absent here; each retry still passes the client-side rate limit.
 */
export async function sendWithRetry(
  req: TransportRequest,
  send: (req: TransportRequest) => Promise<TransportResponse>,
  policy: RetryPolicy,
): Promise<TransportResponse> {
  for (let retries = 0; ; retries++) {
    const response = await send(req);
    const seconds = retries < policy.maxRetries ? retryWaitSeconds(response, policy.wallNow()) : undefined;
    if (seconds === undefined) return response;
    // Read to the end, so that an HTTP/1.1 connection is free to carry the retry.
    await response.body.dump().catch(() => undefined);
    const delayMs = Math.min(seconds * 1000, MAX_TIMER_DELAY_MS);
    policy.log.debug(
      { method: req.method, path: req.path, code: response.status, delayMs, retry: retries + 1 },
      'the API server asked to retry later: waiting for its Retry-After',
    );
    await policy.clock.sleep(delayMs, req.signal);
  }
}
