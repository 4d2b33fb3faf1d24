import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/index.ts';
import type { ResourceHandlers, Tombstone } from './types.ts';

export type Notification<T> =
  | { readonly type: 'add'; readonly obj: T; readonly initial: boolean }
  | { readonly type: 'update'; readonly old: T; readonly obj: T }
  | { readonly type: 'delete'; readonly obj: T | Tombstone<T> }
  /** Everything before it in this listener's queue was the initial list (or the replay of the cache). */
  | { readonly type: 'synced' };

/** A handler registration: remove() stops deliveries; hasSynced() once its initial adds are delivered. */
export interface Registration {
  remove(): void;
  hasSynced(): boolean;
}

/**
 * One handler's queue. Deliveries are synchronous and in order; a throwing handler is logged and the
 * next notification still goes out; a handler's promise is never awaited, so an async handler cannot
 * stall the others or the reflector (it must tolerate overlapping with its own previous call).
 */
class Listener<T> implements Registration {
  readonly resyncPeriodMs: number;
  readonly #handlers: ResourceHandlers<T>;
  readonly #log: Logger;
  readonly #onRemove: (listener: Listener<T>) => void;
  #queue: (Notification<T> | undefined)[] = [];
  #head = 0;
  #draining = false;
  #removed = false;
  #synced = false;
  resyncTimer: TimerHandle | undefined;

  constructor(
    handlers: ResourceHandlers<T>,
    resyncPeriodMs: number,
    log: Logger,
    onRemove: (listener: Listener<T>) => void,
  ) {
    this.#handlers = handlers;
    this.resyncPeriodMs = resyncPeriodMs;
    this.#log = log;
    this.#onRemove = onRemove;
  }

  get removed(): boolean {
    return this.#removed;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#queue = [];
    this.#head = 0;
    this.#onRemove(this);
  }

  enqueue(notification: Notification<T>): void {
    if (!this.#removed) this.#queue.push(notification);
  }

  drain(): void {
    // A handler that registers or removes handlers runs inside a drain: never deliver re-entrantly.
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#head < this.#queue.length && !this.#removed) {
        const notification = this.#queue[this.#head];
        this.#queue[this.#head++] = undefined;
        if (notification) this.#deliver(notification);
      }
    } finally {
      if (this.#head >= this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      this.#draining = false;
    }
  }

  #deliver(n: Notification<T>): void {
    const h = this.#handlers;
    switch (n.type) {
      case 'add':
        if (h.onAdd) this.#call('onAdd', () => h.onAdd?.(n.obj, n.initial));
        break;
      case 'update':
        if (h.onUpdate) this.#call('onUpdate', () => h.onUpdate?.(n.old, n.obj));
        break;
      case 'delete':
        if (h.onDelete) this.#call('onDelete', () => h.onDelete?.(n.obj));
        break;
      case 'synced':
        this.#synced = true;
        break;
    }
  }

  /** Handlers are typed to return void, but an async one returns a promise: its rejection is logged. */
  #call(name: string, invoke: () => unknown): void {
    try {
      const result = invoke();
      if (isThenable(result)) {
        result.then(undefined, (err: unknown) => {
          this.#log.error({ err, handler: name }, 'event handler rejected');
        });
      }
    } catch (err) {
      this.#log.error({ err, handler: name }, 'event handler threw');
    }
  }
}

/**
 * Fans notifications out to the handlers of one informer and runs their resyncs. The store is
 * updated before distribute() is called, so a handler always finds the change in the cache.
 */
export class Processor<T> {
  readonly #listeners = new Set<Listener<T>>();
  readonly #clock: Clock;
  readonly #log: Logger;
  /** Objects a resync re-delivers: the cache, read at resync time. */
  readonly #cached: () => readonly T[];
  #resyncing = false;

  constructor(clock: Clock, log: Logger, cached: () => readonly T[]) {
    this.#clock = clock;
    this.#log = log;
    this.#cached = cached;
  }

  /**
   * Adds a handler. `replay` (the cache, for a handler added after the initial list) is delivered as
   * adds from a microtask, never from inside this call; later notifications queue behind it.
   */
  add(handlers: ResourceHandlers<T>, resyncPeriodMs: number, replay: readonly T[] | undefined): Registration {
    const listener = new Listener(handlers, resyncPeriodMs, this.#log, (l) => {
      this.#listeners.delete(l);
      if (l.resyncTimer) this.#clock.clearTimeout(l.resyncTimer);
    });
    this.#listeners.add(listener);
    if (replay) {
      for (const obj of replay) listener.enqueue({ type: 'add', obj, initial: true });
      listener.enqueue({ type: 'synced' });
      queueMicrotask(() => {
        listener.drain();
      });
    }
    if (this.#resyncing) this.#armResync(listener);
    return listener;
  }

  distribute(notifications: readonly Notification<T>[]): void {
    if (notifications.length === 0) return;
    // A snapshot: a handler added while these are delivered already saw the change in its replay.
    for (const listener of [...this.#listeners]) {
      for (const n of notifications) listener.enqueue(n);
      listener.drain();
    }
  }

  /** The initial list has been distributed: every handler registered now is synced once it has drained. */
  markSynced(): void {
    this.distribute([{ type: 'synced' }]);
  }

  get size(): number {
    return this.#listeners.size;
  }

  startResync(): void {
    if (this.#resyncing) return;
    this.#resyncing = true;
    for (const listener of this.#listeners) this.#armResync(listener);
  }

  stopResync(): void {
    this.#resyncing = false;
    for (const listener of this.#listeners) {
      if (listener.resyncTimer) this.#clock.clearTimeout(listener.resyncTimer);
      listener.resyncTimer = undefined;
    }
  }

  /** A resync re-delivers the cache as onUpdate(obj, obj) to this handler only: no API call. */
  #armResync(listener: Listener<T>): void {
    if (listener.resyncPeriodMs <= 0) return;
    listener.resyncTimer = this.#clock.setTimeout(() => {
      listener.resyncTimer = undefined;
      if (listener.removed || !this.#resyncing) return;
      for (const obj of this.#cached()) listener.enqueue({ type: 'update', old: obj, obj });
      listener.drain();
      this.#armResync(listener);
    }, listener.resyncPeriodMs);
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}
