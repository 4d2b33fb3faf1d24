import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat, type LogFormat } from './logger.ts';

function written(format: LogFormat, isTTY: boolean): string {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  createLogger({ level: 'info', format, destination, isTTY }).info({ pod: 'ns/web' }, 'hello there');
  return text;
}

describe('log format', () => {
  it('auto is pretty at a terminal and JSON otherwise; json and pretty are taken as given', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    for (const isTTY of [true, false]) {
      expect(resolveLogFormat('json', isTTY)).toBe('json');
      expect(resolveLogFormat('pretty', isTTY)).toBe('pretty');
    }
  });

  it('writes one JSON object per line when not at a terminal', () => {
    const line = JSON.parse(written('auto', false)) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'hello there', pod: 'ns/web', app: 'pod-sync-operator' });
  });

  it('writes pino-pretty lines at a terminal, and when asked to anywhere', () => {
    for (const text of [written('auto', true), written('pretty', false)]) {
      expect(() => JSON.parse(text) as unknown).toThrow();
      // One line per entry: time, level, message, then the other fields.
      expect(text.trimEnd().split('\n')).toHaveLength(1);
      expect(text).toMatch(/INFO.*hello there.*"pod":"ns\/web"/);
      expect(text).not.toContain('pod-sync-operator');
    }
  });
});
