/** A first-in first-out buffer with O(1) push and shift: a ring that doubles when full. */
export class Fifo<T> {
  #slots: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) % this.#slots.length] = value;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#slots[this.#head];
    // Clear the slot so a handed-out value is not kept alive by the buffer.
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#length--;
    return value;
  }

  /** Removes every value, in order. */
  *drain(): Generator<T> {
    while (this.#length > 0) yield this.shift() as T;
  }

  #grow(): void {
    const slots = new Array<T | undefined>(this.#slots.length * 2);
    for (let i = 0; i < this.#length; i++) slots[i] = this.#slots[(this.#head + i) % this.#slots.length];
    this.#slots = slots;
    this.#head = 0;
  }
}
