declare const timerHandleBrand: unique symbol;

/** Identifies a timer armed by a {@link Clock}; only that clock can clear it. */
export interface TimerHandle {
  readonly [timerHandleBrand]: true;
}

/** Node's timers keep at most a signed 32-bit delay; longer ones would fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface TimerOptions {
  /** The pending timer alone does not keep the process alive (Node's unref): for watchdogs of things that do. */
  unref?: boolean;
}

/**
 * Time as the operator sees it. Everything that waits or measures takes a Clock so that tests can
 * drive time with a fake one and never sleep for real.
 */
export interface Clock {
  /** Milliseconds on a timeline that never goes backwards; for intervals and deadlines, not calendar dates. */
  now(): number;
  /** Calls `fn` once `ms` have passed (negative or NaN counts as 0; above MAX_TIMER_DELAY_MS throws). */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle;
  /** Cancels a timer; clearing one that already fired or was cleared does nothing. */
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`; rejects with `signal.reason` as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Normalises a requested delay the same way for every clock. */
export function timerDelay(ms: number): number {
  if (ms > MAX_TIMER_DELAY_MS) {
    throw new RangeError(`timer delay ${ms} ms exceeds the maximum of ${MAX_TIMER_DELAY_MS} ms`);
  }
  return ms > 0 ? ms : 0;
}

/**
 * Sleeps with the timers of `clock`: shared by the real and fake clocks so both honour abort alike.
 */
export function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The process's clock: monotonic time anchored at the epoch, and Node's global timers. */
export class RealClock implements Clock {
  now(): number {
    // performance.now() is monotonic, so a wall-clock step cannot reorder deadlines or stretch a wait.
    return performance.timeOrigin + performance.now();
  }

  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle {
    const timer = globalThis.setTimeout(fn, timerDelay(ms));
    if (options?.unref) timer.unref();
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    globalThis.clearTimeout(handle as unknown as NodeJS.Timeout);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }
}

export const realClock: Clock = new RealClock();
