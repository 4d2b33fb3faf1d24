import type { Clock } from '../clock/index.ts';

interface Entry<V> {
  value: V;
  /** clock.now() at which the entry stops being served. */
  expiresAt: number;
}

/**
 * A map whose entries expire, each after its own TTL, and whose least recently used entry goes first
 * once `maxEntries` are held: k8s.io/apimachinery's LRUExpireCache, which the apiserver's webhook
 * authorizer caches decisions in. Time is the injected clock's, so tests move it by hand.
 */
export class ExpiringCache<V> {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<string, Entry<V>>();

  constructor(clock: Clock, maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be >= 1, got ${maxEntries}`);
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  /** The value stored under `key` while its TTL lasts; undefined when absent or expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (this.#clock.now() >= entry.expiresAt) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs` (<= 0 stores nothing), evicting the least recently used entry when full. */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (!(ttlMs > 0)) return;
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
