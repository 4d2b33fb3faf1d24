import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** One log line, parsed from JSON. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** Makes the logger under test, at `level`, writing JSON lines to `destination`. */
export type CapturedLoggerFactory = (level: string, destination: NodeJS.WritableStream) => Logger;

const plainPino: CapturedLoggerFactory = (level, destination) => pino({ level }, destination);

/**
 * A logger whose JSON lines the test reads back from `lines`, in order: pino at `level`, or what
 * `build` makes (e.g. the operator's createLogger, for its serializers and redaction).
 */
export function captureLogs(
  level = 'debug',
  build: CapturedLoggerFactory = plainPino,
): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: build(level, stream), lines };
}
