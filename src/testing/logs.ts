import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** One log line, parsed from JSON. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A pino logger whose JSON lines the test reads back from `lines`, in order. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
