export { MAX_TIMER_DELAY_MS, RealClock, realClock, type Clock, type TimerHandle } from './clock.ts';
export { FakeClock } from './fake-clock.ts';
