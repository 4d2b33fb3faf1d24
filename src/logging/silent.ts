import { pino, type Logger } from 'pino';

/** A logger that writes nothing: for components built without one (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** `logger`, or a silent one when none was given. */
export function loggerOr(logger: Logger | undefined): Logger {
  return logger ?? silentLogger();
}
