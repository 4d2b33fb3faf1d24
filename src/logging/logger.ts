import { pino, type Logger, type LoggerOptions } from 'pino';

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where JSON lines go; stdout by default. Tests pass a stream to capture them. */
  destination?: NodeJS.WritableStream;
}

/** Paths that may hold credentials; pino replaces their values before a line is written. */
const REDACT = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'bearerToken',
];

export function createLogger({ level, format, destination }: LoggerSettings): Logger {
  const options: LoggerOptions = { level, base: { app: 'pod-sync-operator' }, redact: REDACT };
  if (format === 'pretty') {
    // pino-pretty is a development dependency: people read pretty logs, machines read JSON.
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return destination ? pino(options, destination) : pino(options);
}
