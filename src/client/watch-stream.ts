import { MALFORMED_LINE_PREVIEW_CHARS } from './defaults.ts';
import { WatchDecodeError, type Status } from './errors.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One line of a watch stream. ERROR carries a Status (code 410 when the resourceVersion expired). */
export type WatchEvent<T> =
  { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T } | { type: 'ERROR'; object: Status };

const EVENT_TYPES: ReadonlySet<string> = new Set<WatchEventType>([
  'ADDED',
  'MODIFIED',
  'DELETED',
  'BOOKMARK',
  'ERROR',
]);

/** Parses one line; anything that is not `{ type, object }` with a known type is a WatchDecodeError. */
export function decodeWatchEvent<T>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new WatchDecodeError(`malformed watch event: ${(err as Error).message}`, preview(line), {
      cause: err,
    });
  }
  const event = parsed as { type?: unknown; object?: unknown } | null;
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') {
    throw new WatchDecodeError('malformed watch event: no type', preview(line));
  }
  if (!EVENT_TYPES.has(event.type)) {
    throw new WatchDecodeError(`malformed watch event: unknown type ${event.type}`, preview(line));
  }
  if (typeof event.object !== 'object' || event.object === null) {
    throw new WatchDecodeError(`malformed watch event: ${event.type} without an object`, preview(line));
  }
  return event as WatchEvent<T>;
}

/**
 * Splits a byte stream into newline-delimited JSON watch events. A line split across chunks (or a
 * multi-byte character split across chunks) is reassembled; blank lines are skipped; a malformed line
 * throws, and so does a non-empty fragment left when the stream ends.
 */
export async function* decodeWatchStream<T>(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<WatchEvent<T>, void, undefined> {
  const decoder = new TextDecoder();
  // Pieces of the current line; joined once its newline arrives, so a long line costs O(length).
  let pieces: string[] = [];
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      pieces.push(text.slice(start, newline));
      start = newline + 1;
      const line = pieces.length === 1 ? (pieces[0] ?? '') : pieces.join('');
      pieces = [];
      if (line.trim() !== '') yield decodeWatchEvent<T>(line);
    }
    if (start < text.length) pieces.push(text.slice(start));
  }
  const rest = pieces.join('') + decoder.decode();
  if (rest.trim() !== '') yield decodeWatchEvent<T>(rest);
}

function preview(line: string): string {
  return line.length > MALFORMED_LINE_PREVIEW_CHARS
    ? `${line.slice(0, MALFORMED_LINE_PREVIEW_CHARS)}…`
    : line;
}
