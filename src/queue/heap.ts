export interface Due<K> {
  readonly key: K;
  readonly at: number;
}

interface Entry<K> {
  readonly key: K;
  at: number;
  /** Orders entries due at the same time by insertion, so equal deadlines come out first-in first-out. */
  seq: number;
  index: number;
}

/**
 * A binary min-heap of keys by due time, at most one entry per key, with O(log n) insert, update,
 * removal of any key and pop of the earliest.
 */
export class DueHeap<K> {
  readonly #entries: Entry<K>[] = [];
  readonly #byKey = new Map<K, Entry<K>>();
  #nextSeq = 0;

  get size(): number {
    return this.#entries.length;
  }

  /** The due time of `key`, or undefined when it has no entry. */
  dueAt(key: K): number | undefined {
    return this.#byKey.get(key)?.at;
  }

  /** The earliest entry without removing it. */
  peek(): Due<K> | undefined {
    const top = this.#entries[0];
    return top && { key: top.key, at: top.at };
  }

  /** Inserts `key`, or moves its existing entry to `at`. */
  set(key: K, at: number): void {
    const existing = this.#byKey.get(key);
    if (existing) {
      existing.at = at;
      existing.seq = this.#nextSeq++;
      this.#fix(existing.index);
      return;
    }
    const entry: Entry<K> = { key, at, seq: this.#nextSeq++, index: this.#entries.length };
    this.#entries.push(entry);
    this.#byKey.set(key, entry);
    this.#up(entry.index);
  }

  delete(key: K): boolean {
    const entry = this.#byKey.get(key);
    if (!entry) return false;
    this.#byKey.delete(key);
    const last = this.#entries.pop() as Entry<K>;
    if (last !== entry) {
      this.#entries[entry.index] = last;
      last.index = entry.index;
      this.#fix(last.index);
    }
    return true;
  }

  pop(): Due<K> | undefined {
    const top = this.peek();
    if (top) this.delete(top.key);
    return top;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#byKey.clear();
  }

  #less(i: number, j: number): boolean {
    const a = this.#at(i);
    const b = this.#at(j);
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #at(i: number): Entry<K> {
    return this.#entries[i] as Entry<K>;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    const b = this.#at(j);
    this.#entries[i] = b;
    this.#entries[j] = a;
    b.index = i;
    a.index = j;
  }

  #fix(i: number): void {
    if (!this.#up(i)) this.#down(i);
  }

  /** Sifts entry i towards the root; reports whether it moved. */
  #up(i: number): boolean {
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
    return i !== start;
  }

  #down(i: number): void {
    const n = this.#entries.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#less(right, left) ? right : left;
      if (!this.#less(child, i)) return;
      this.#swap(i, child);
      i = child;
    }
  }
}
