import { describe, expect, it } from 'vitest';
import { WatchDecodeError } from './errors.ts';
import { decodeWatchEvent, decodeWatchStream, type WatchEvent } from './watch-stream.ts';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const part of parts) {
    await Promise.resolve();
    yield part;
  }
}

async function collect(source: AsyncIterable<string | Uint8Array>): Promise<WatchEvent<unknown>[]> {
  const out: WatchEvent<unknown>[] = [];
  for await (const event of decodeWatchStream(source)) out.push(event);
  return out;
}

const line = (type: string, name: string): string =>
  `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

describe('decodeWatchStream', () => {
  it('yields one event per line, whatever the chunk boundaries', async () => {
    const text = line('ADDED', 'a') + line('MODIFIED', 'b') + line('DELETED', 'c');
    const expected = [
      { type: 'ADDED', object: { metadata: { name: 'a' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'b' } } },
      { type: 'DELETED', object: { metadata: { name: 'c' } } },
    ];
    expect(await collect(chunks(text))).toEqual(expected);
    for (let size = 1; size < 12; size++) {
      const parts: string[] = [];
      for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
      expect(await collect(chunks(...parts))).toEqual(expected);
    }
  });

  it('reassembles a multi-byte character split across chunks', async () => {
    const bytes = new TextEncoder().encode(line('ADDED', 'café-☃'));
    const at = bytes.indexOf(0xe2);
    expect(await collect(chunks(bytes.slice(0, at + 1), bytes.slice(at + 1)))).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'café-☃' } } },
    ]);
  });

  it('skips blank lines and accepts a last line without a newline', async () => {
    const events = await collect(chunks('\n', line('ADDED', 'a'), '\r\n', line('BOOKMARK', 'b').trimEnd()));
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
  });

  it('throws WatchDecodeError for a malformed line after yielding the good ones before it', async () => {
    const seen: string[] = [];
    const decoding = (async () => {
      for await (const event of decodeWatchStream(chunks(line('ADDED', 'a'), '{"type":"ADDED","obj\n')))
        seen.push(event.type);
    })();
    const err = await decoding.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchDecodeError);
    expect((err as WatchDecodeError).line).toBe('{"type":"ADDED","obj');
    expect(seen).toEqual(['ADDED']);
  });

  it('throws for a truncated last line', async () => {
    await expect(collect(chunks(line('ADDED', 'a'), '{"type":"MODI'))).rejects.toBeInstanceOf(
      WatchDecodeError,
    );
  });
});

describe('decodeWatchEvent', () => {
  it('refuses JSON that is not a watch event', () => {
    expect(() => decodeWatchEvent('[1,2]')).toThrow(/no type/);
    expect(() => decodeWatchEvent('null')).toThrow(/no type/);
    expect(() => decodeWatchEvent('{"type":"CREATED","object":{}}')).toThrow(/unknown type CREATED/);
    expect(() => decodeWatchEvent('{"type":"ADDED"}')).toThrow(/without an object/);
    expect(() => decodeWatchEvent('not json')).toThrow(WatchDecodeError);
  });

  it('keeps only the start of a long malformed line', () => {
    try {
      decodeWatchEvent(`{${'x'.repeat(10_000)}`);
      expect.unreachable();
    } catch (err) {
      expect((err as WatchDecodeError).line.length).toBeLessThan(300);
    }
  });

  it('passes ERROR events with their Status', () => {
    expect(
      decodeWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}'),
    ).toEqual({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
  });
});
