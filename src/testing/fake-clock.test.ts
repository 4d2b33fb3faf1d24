import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '../clock/index.ts';
import { FakeClock } from './fake-clock.ts';
import { flush, track } from './flush.ts';

describe('FakeClock', () => {
  it('starts where told and moves only when stepped', () => {
    const clock = new FakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.step(250);
    expect(clock.now()).toBe(1_250);
    clock.setTime(2_000);
    expect(clock.now()).toBe(2_000);
  });

  it('fires due timers in time order, each seeing its own due time', () => {
    const clock = new FakeClock();
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['c', clock.now()]), 30);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['late', clock.now()]), 100);
    clock.step(50);
    expect(fired).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ]);
    expect(clock.now()).toBe(50);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('fires timers due at the same instant in the order they were armed', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10);
    clock.step(10);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('fires timers armed by callbacks during a step when they fall within it', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.step(35);
    expect(fired).toEqual([10, 20, 30]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('reports a timer that keeps re-arming itself without delay instead of hanging', () => {
    const clock = new FakeClock();
    const spin = (): void => {
      clock.setTimeout(spin, 0);
    };
    clock.setTimeout(spin, 0);
    expect(() => {
      clock.step(1);
    }).toThrow(/timers fired in one step/);
  });

  it('fires a zero delay timer on the next step, even a step of 0', () => {
    const clock = new FakeClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 0);
    clock.setTimeout(() => fired++, -5);
    expect(fired).toBe(0);
    clock.step(0);
    expect(fired).toBe(2);
  });

  it('never fires a cleared timer', () => {
    const clock = new FakeClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 10);
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    expect(clock.pendingTimers()).toBe(0);
    clock.step(20);
    expect(fired).toBe(false);
  });

  it('stalls: time moves without firing timers, which fire late at the next step, seeing the late time', () => {
    const clock = new FakeClock(0);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.stall(1_000);
    expect(clock.now()).toBe(1_000);
    expect(fired).toEqual([]);
    clock.step(0);
    expect(fired).toEqual([
      ['a', 1_000],
      ['b', 1_000],
    ]);
    expect(() => {
      clock.stall(-1);
    }).toThrow(RangeError);
  });

  it('refuses to go backwards or to arm a timer longer than Node can hold', () => {
    const clock = new FakeClock(100);
    expect(() => {
      clock.setTime(99);
    }).toThrow(RangeError);
    expect(() => {
      clock.step(-1);
    }).toThrow(RangeError);
    expect(() => clock.setTimeout(() => undefined, MAX_TIMER_DELAY_MS + 1)).toThrow(RangeError);
  });

  it('tells when its earliest pending timer falls due', () => {
    const clock = new FakeClock(50);
    expect(clock.nextDueAt()).toBeUndefined();
    const late = clock.setTimeout(() => undefined, 30);
    const early = clock.setTimeout(() => undefined, 10);
    expect(clock.nextDueAt()).toBe(60);
    clock.clearTimeout(early);
    expect(clock.nextDueAt()).toBe(80);
    clock.clearTimeout(late);
    expect(clock.nextDueAt()).toBeUndefined();
  });

  it('resolves sleep once the time has passed', async () => {
    const clock = new FakeClock();
    const sleep = track(clock.sleep(100));
    clock.step(99);
    await flush();
    expect(sleep.settled).toBe(false);
    clock.step(1);
    await flush();
    expect(sleep).toMatchObject({ settled: true, rejected: false });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects sleep with the abort reason and drops its timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleep = clock.sleep(100, controller.signal);
    expect(clock.pendingTimers()).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(sleep).rejects.toBe(reason);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects sleep at once when the signal is already aborted', async () => {
    const clock = new FakeClock();
    const reason = new Error('already');
    await expect(clock.sleep(100, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(clock.pendingTimers()).toBe(0);
  });
});
