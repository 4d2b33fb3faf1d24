export {
  MAX_TIMER_DELAY_MS,
  RealClock,
  realClock,
  type Clock,
  type TimerHandle,
  type TimerOptions,
} from './clock.ts';
