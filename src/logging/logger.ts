import { pino, type Logger, type LoggerOptions } from 'pino';
import { createRequire } from 'node:module';
import type { build as PrettyStream } from 'pino-pretty';
import { serializeError } from './serialize-error.ts';

/** `auto` is pretty for a person at a terminal and JSON for everything else. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerSettings {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal, for `auto`; default: whether stdout is one. */
  isTTY?: boolean;
}

// pino-pretty (and its dozen dependencies) is loaded only for a pretty log: a pod's JSON log never
// pays for it at start (issue 15: the deployed start-up path loads only what it uses).
const require = createRequire(import.meta.url);
function prettyStream(...args: Parameters<typeof PrettyStream>): ReturnType<typeof PrettyStream> {
  return (require('pino-pretty') as { build: typeof PrettyStream }).build(...args);
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

/**
 * The format `auto` stands for: pretty when a person reads the terminal directly (`make run`), JSON
 * when stdout is a pipe or a file, which is what log collectors and `kubectl logs` read in a cluster.
 */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  return isTTY ? 'pretty' : 'json';
}

export function createLogger({ level, format, destination, isTTY }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { app: 'pod-sync-operator' },
    redact: REDACT,
    serializers: { err: serializeError },
  };
  if (resolveLogFormat(format, isTTY ?? process.stdout.isTTY) === 'pretty') {
    // In this thread and synchronous (no transport worker), so the last lines before an exit are
    // written; one line per entry, as a stream of pod transitions reads best; `app` says nothing to a
    // person. Colours follow pino-pretty's own detection (a TTY, NO_COLOR, FORCE_COLOR).
    return pino(
      options,
      prettyStream({ sync: true, singleLine: true, ignore: 'app', destination: destination ?? 1 }),
    );
  }
  return destination ? pino(options, destination) : pino(options);
}
