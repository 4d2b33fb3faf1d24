import type { KubeObject } from './types.ts';

/**
 * A read-only view of an informer's cache. Objects handed out are deeply frozen and shared with every
 * other reader: copy before changing (structuredClone), never mutate.
 */
export interface Store<T> {
  get(key: string): T | undefined;
  list(): readonly T[];
  listKeys(): readonly string[];
  /** Objects whose index function returned `value`; throws for an index that does not exist. */
  byIndex(indexName: string, value: string): readonly T[];
  readonly size: number;
}

/** Values under which an object is found in an index; [] to leave it out. */
export type IndexFunc<T> = (obj: T) => string[];

export const NAMESPACE_INDEX = 'namespace';

/** The built-in index: an object's namespace ('' for a cluster-scoped one). */
export function namespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata?.namespace ?? ''];
}

export type IndexErrorHandler = (indexName: string, key: string, err: unknown) => void;

/**
 * The cache of one informer: objects by key plus indices kept incrementally, so a change costs work
 * proportional to the index values of the old and new object, never to the number of cached objects.
 * Invariant: for every index, value -> keys holds exactly the keys whose object yields that value.
 */
export class Indexer<T extends KubeObject> implements Store<T> {
  readonly #items = new Map<string, T>();
  readonly #indexFuncs = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  readonly #onIndexError: IndexErrorHandler;
  /** list() and listKeys() answers, valid until the next change. */
  #listCache: readonly T[] | undefined;
  #keysCache: readonly string[] | undefined;

  constructor(indexers: Record<string, IndexFunc<T>> = {}, onIndexError?: IndexErrorHandler) {
    this.#onIndexError =
      onIndexError ??
      ((name, key, err) => {
        throw new Error(`index ${name} failed for ${key}`, { cause: err });
      });
    this.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...indexers });
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): readonly T[] {
    this.#listCache ??= Object.freeze([...this.#items.values()]);
    return this.#listCache;
  }

  listKeys(): readonly string[] {
    this.#keysCache ??= Object.freeze([...this.#items.keys()]);
    return this.#keysCache;
  }

  byIndex(indexName: string, value: string): readonly T[] {
    const index = this.#indices.get(indexName);
    if (!index) throw new Error(`index ${JSON.stringify(indexName)} does not exist`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  indexNames(): string[] {
    return [...this.#indexFuncs.keys()];
  }

  /** Adds indices, building each over the cached objects once. An existing name is an error. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexFuncs.has(name)) throw new Error(`index ${JSON.stringify(name)} already exists`);
      this.#indexFuncs.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.#indices.set(name, index);
      for (const [key, obj] of this.#items)
        for (const value of this.#values(name, fn, key, obj)) add(index, value, key);
    }
  }

  /** Stores `obj` under `key`; returns the object it replaced. */
  set(key: string, obj: T): T | undefined {
    // Every new index value first: a throwing index function must not leave the store half-changed.
    const after = new Map<string, string[]>();
    for (const [name, fn] of this.#indexFuncs) after.set(name, this.#values(name, fn, key, obj));
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#changed();
    for (const [name, fn] of this.#indexFuncs) {
      const index = this.#indices.get(name);
      const values = after.get(name) ?? [];
      if (!index) continue;
      const before = old === undefined ? [] : this.#values(name, fn, key, old);
      // The common case: one value that did not change.
      if (before.length === 1 && values.length === 1 && before[0] === values[0]) continue;
      for (const value of before) if (!values.includes(value)) remove(index, value, key);
      for (const value of values) add(index, value, key);
    }
    return old;
  }

  /** Removes `key`; returns the object it held. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    this.#changed();
    for (const [name, fn] of this.#indexFuncs) {
      const index = this.#indices.get(name);
      if (index) for (const value of this.#values(name, fn, key, old)) remove(index, value, key);
    }
    return old;
  }

  #changed(): void {
    this.#listCache = undefined;
    this.#keysCache = undefined;
  }

  /** A throwing index function leaves the object out of that index (and reports it), never half-stored. */
  #values(name: string, fn: IndexFunc<T>, key: string, obj: T): string[] {
    try {
      return fn(obj);
    } catch (err) {
      this.#onIndexError(name, key, err);
      return [];
    }
  }
}

function add(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

/** Drops empty sets, so values that come and go (uids) do not pile up. */
function remove(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(value);
}
