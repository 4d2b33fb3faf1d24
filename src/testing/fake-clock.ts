import { sleepWith, timerDelay, type Clock, type TimerHandle } from '../clock/index.ts';

const MAX_TIMERS_PER_STEP = 1_000_000;

interface FakeTimer {
  readonly at: number;
  /** Breaks ties between timers due at the same instant: the one armed first fires first. */
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when a test moves it. Timers fire synchronously inside step/setTime, in
 * order of due time, each seeing now() equal to its own due time.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextSeq = 0;
  readonly #timers = new Map<TimerHandle, FakeTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {} as TimerHandle;
    this.#timers.set(handle, { at: this.#now + timerDelay(ms), seq: this.#nextSeq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Advances time by `ms`, firing every timer that falls due on the way, including ones armed meanwhile. */
  step(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot step a clock by ${ms} ms`);
    this.setTime(this.#now + ms);
  }

  /**
   * Moves time forward by `ms` without firing a timer, as a frozen process sees it (SIGSTOP, a GC
   * pause, a suspended VM): timers that fell due meanwhile fire only at the next step or setTime,
   * so whatever the test runs first after the stall (an answer read from a socket) sees the late now().
   */
  stall(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot stall a clock by ${ms} ms`);
    this.#now += ms;
  }

  /** Moves time to `t` (never backwards), firing due timers in time order. */
  setTime(t: number): void {
    if (!(t >= this.#now)) throw new RangeError(`cannot move the clock from ${this.#now} back to ${t}`);
    let fired = 0;
    for (let due = this.#nextDue(t); due; due = this.#nextDue(t)) {
      // A timer that keeps re-arming itself without delay would otherwise hang the test silently.
      if (++fired > MAX_TIMERS_PER_STEP)
        throw new Error(`more than ${MAX_TIMERS_PER_STEP} timers fired in one step`);
      const [handle, timer] = due;
      this.#timers.delete(handle);
      // A timer that fell due during a stall fires late, seeing the late time, as a real one would.
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
    }
    this.#now = t;
  }

  /** Timers armed and not yet fired or cleared. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the earliest pending timer falls due; undefined when none is pending. */
  nextDueAt(): number | undefined {
    return this.#nextDue(Infinity)?.[1].at;
  }

  /** The earliest timer due by `t`; a linear scan keeps it simple, tests arm few timers. */
  #nextDue(t: number): [TimerHandle, FakeTimer] | undefined {
    let best: [TimerHandle, FakeTimer] | undefined;
    for (const entry of this.#timers) {
      const timer = entry[1];
      if (timer.at > t) continue;
      if (!best || timer.at < best[1].at || (timer.at === best[1].at && timer.seq < best[1].seq))
        best = entry;
    }
    return best;
  }
}
