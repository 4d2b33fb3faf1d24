export { abortable, aborted, deadline, isAborted } from './abort.ts';
export {
  type Clock,
  MAX_TIMER_DELAY_MS,
  realClock,
  sleepWith,
  timerDelay,
  type TimerHandle,
} from './clock.ts';
