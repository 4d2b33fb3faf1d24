import type { FakeClock } from './fake-clock.ts';
import { flush } from './flush.ts';

/**
 * Moves `clock` to `t` from timer to timer, letting promise chains move after each, so every
 * continuation runs when its timer fell due, without stepping through the milliseconds where nothing
 * is due. Time moves in whole milliseconds, as Node's timers do: a timer due at 9,599.9 ms fires as
 * the clock reaches 9,600.
 */
export async function advanceTo(clock: FakeClock, t: number): Promise<void> {
  await flush();
  for (let due = clock.nextDueAt(); due !== undefined && due <= t; due = clock.nextDueAt()) {
    clock.setTime(Math.min(Math.max(Math.ceil(due), clock.now()), Math.max(t, clock.now())));
    await flush();
  }
  clock.setTime(Math.max(t, clock.now()));
  await flush();
}

/** advanceTo `ms` from now. */
export function advance(clock: FakeClock, ms: number): Promise<void> {
  return advanceTo(clock, clock.now() + ms);
}
