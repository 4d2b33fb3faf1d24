import type { Clock } from './clock.ts';

/** A request or renewal that ran past its time limit. */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

export interface Deadline {
  /** Aborts when the parent aborts (with its reason) or when the time is up (DeadlineExceededError). */
  readonly signal: AbortSignal;
  /** Clears the timer and the parent listener; call it once the guarded work is over. */
  dispose(): void;
}

/** A signal that aborts `ms` from now on `clock`, or earlier with `parent`. */
export function deadline(clock: Clock, ms: number, what: string, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  if (parent?.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, dispose: () => undefined };
  }
  const onParentAbort = (): void => {
    clock.clearTimeout(timer);
    controller.abort(parent?.reason);
  };
  const timer = clock.setTimeout(() => {
    parent?.removeEventListener('abort', onParentAbort);
    controller.abort(new DeadlineExceededError(`${what} did not finish within ${ms} ms`));
  }, ms);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clock.clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts: a call that
 * ignores its signal cannot hold the elector past a deadline.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void promise
      .finally(() => {
        signal.removeEventListener('abort', onAbort);
      })
      .then(resolve, reject);
  });
}

/**
 * `signal.aborted`, read through a call: after a check TypeScript keeps the property narrowed to
 * false across awaits, though it may have changed meanwhile.
 */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

/** Resolves once `signal` aborts (at once if it has); never rejects: for runnables that wait to be stopped. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
