import { readFile } from 'node:fs/promises';
import type { Clock } from '../clock/index.ts';
import { TOKEN_FILE_REREAD_MS } from './defaults.ts';

/**
 * A bearer token kept in a file that the kubelet rotates (projected service-account tokens). Read at
 * most once a minute, trimmed, and re-read at once after a 401. A failed read keeps the last good
 * token, as client-go does: a rotation in progress must not fail every request meanwhile.
 */
export class TokenFile {
  readonly path: string;
  readonly #clock: Clock;
  readonly #rereadMs: number;
  readonly #read: (path: string) => Promise<string>;
  #token: string | undefined;
  #readAt = -Infinity;
  #pending: Promise<string> | undefined;

  constructor(
    path: string,
    clock: Clock,
    options: { rereadMs?: number; read?: (path: string) => Promise<string> } = {},
  ) {
    this.path = path;
    this.#clock = clock;
    this.#rereadMs = options.rereadMs ?? TOKEN_FILE_REREAD_MS;
    this.#read = options.read ?? ((p) => readFile(p, 'utf8'));
  }

  /** The current token; throws only when the file has never been read successfully. */
  async token(): Promise<string> {
    if (this.#token !== undefined && this.#clock.now() - this.#readAt < this.#rereadMs) return this.#token;
    // Concurrent requests share one read.
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** The server rejected the token: read the file again on the next request. */
  invalidate(): void {
    this.#readAt = -Infinity;
  }

  async #refresh(): Promise<string> {
    try {
      const token = (await this.#read(this.path)).trim();
      if (!token) throw new Error(`token file ${this.path} is empty`);
      this.#token = token;
    } catch (err) {
      if (this.#token === undefined) throw err;
    }
    this.#readAt = this.#clock.now();
    return this.#token;
  }
}
