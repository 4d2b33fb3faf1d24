import type { Clock } from '../clock/index.ts';

/**
 * A token bucket: `burst` tokens, refilled at `qps` per second; client-go's util/flowcontrol
 * NewTokenBucketRateLimiterWithClock, which is golang.org/x/time/rate underneath. It throttles the
 * requests of a REST client (rest.Config QPS and Burst) and the retries of a work queue
 * (workqueue.BucketRateLimiter) alike.
 */
export class TokenBucketRateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  /** Tokens at time #last; negative while reservations are waiting for tokens still to come. */
  #tokens: number;
  #last: number;

  /** @throws RangeError unless qps > 0 (Infinity: never throttles) and burst is an integer >= 1. */
  constructor(qps: number, burst: number, clock: Clock) {
    if (!(qps > 0)) throw new RangeError(`qps must be > 0, got ${qps}`);
    if (!(Number.isInteger(burst) && burst >= 1))
      throw new RangeError(`burst must be an integer >= 1, got ${burst}`);
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /**
   * Takes one token now, going into debt when none is left (x/time/rate's Reserve), and returns the
   * ms until that token exists: 0 to go at once. Callers that reserve in turn are served in turn.
   */
  reserve(): number {
    if (this.#qps === Infinity) return 0;
    const now = this.#clock.now();
    const elapsedMs = Math.max(now - this.#last, 0);
    const tokens = Math.min(this.#burst, this.#tokens + (elapsedMs * this.#qps) / 1000) - 1;
    this.#tokens = tokens;
    this.#last = now;
    return tokens < 0 ? (-tokens * 1000) / this.#qps : 0;
  }

  /**
   * Reserves a token and waits until it exists (flowcontrol's Wait). Rejects with the signal's reason
   * when it aborts first; the token stays spent.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.reserve();
    if (ms > 0) await this.#clock.sleep(ms, signal);
  }
}
