import type { Clock } from '../clock/index.ts';
import {
  BACKOFF_FACTOR,
  BACKOFF_INITIAL_MS,
  BACKOFF_JITTER,
  BACKOFF_MAX_MS,
  BACKOFF_RESET_MS,
} from './defaults.ts';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Each delay d becomes d + random * jitter * d. */
  jitter: number;
  /** A call this long after the previous one starts over from initialMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: BACKOFF_INITIAL_MS,
  maxMs: BACKOFF_MAX_MS,
  factor: BACKOFF_FACTOR,
  jitter: BACKOFF_JITTER,
  resetAfterMs: BACKOFF_RESET_MS,
});

/**
 * client-go's reflector backoff: 800 ms doubling to a 30 s cap, each delay jittered up to twice its
 * base, starting over once 2 min pass between failures.
 */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  #base: number;
  #lastCall: number;

  constructor(clock: Clock, options: Partial<BackoffOptions> = {}, random: () => number = Math.random) {
    this.#options = { ...DEFAULT_BACKOFF, ...options };
    this.#clock = clock;
    this.#random = random;
    this.#base = this.#options.initialMs;
    this.#lastCall = clock.now();
  }

  /** The delay to wait after a failure now. */
  next(): number {
    const { initialMs, maxMs, factor, jitter, resetAfterMs } = this.#options;
    const now = this.#clock.now();
    if (now - this.#lastCall > resetAfterMs) this.#base = initialMs;
    this.#lastCall = now;
    const base = this.#base;
    this.#base = Math.min(base * factor, maxMs);
    return jitter > 0 ? base + this.#random() * jitter * base : base;
  }
}
