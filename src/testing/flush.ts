import { setImmediate } from 'node:timers/promises';

/**
 * Lets every promise chain that can move now move: `turns` turns of the event loop. A FakeClock's
 * timers do not fire meanwhile; time moves only when the test moves it.
 */
export async function flush(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await setImmediate();
}

/** What a tracked promise has done so far. */
export interface Tracked<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  /** The rejection reason; undefined while pending or when it resolved. */
  readonly error: unknown;
  readonly rejected: boolean;
}

/** Follows a promise so a test can ask, without awaiting it, whether it has settled and how. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const state = {
    settled: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
    rejected: false,
  };
  promise.then(
    (value) => {
      Object.assign(state, { settled: true, value });
    },
    (error: unknown) => {
      Object.assign(state, { settled: true, rejected: true, error });
    },
  );
  return state;
}
