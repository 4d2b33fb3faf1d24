import { describe, expect, it } from 'vitest';
import { FakeClock, flush, track } from '../testing/index.ts';
import { Queue, type GetResult } from './queue.ts';

async function item(queue: Queue): Promise<string> {
  const result = await queue.get();
  if (result.shutdown) throw new Error('queue shut down');
  return result.item;
}

function newQueue(): { queue: Queue; clock: FakeClock } {
  const clock = new FakeClock();
  return { queue: new Queue({ clock }), clock };
}

describe('Queue', () => {
  it('hands items out first in, first out', async () => {
    const { queue } = newQueue();
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    expect(queue.len()).toBe(4);
    const got = [await item(queue), await item(queue), await item(queue), await item(queue)];
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.len()).toBe(0);
  });

  it('keeps one pending copy of a key added twice', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await item(queue)).toBe('a');
    expect(await item(queue)).toBe('b');
    const next = track(queue.get());
    await flush();
    expect(next.settled).toBe(false);
    queue.shutDown();
  });

  it('does not hand a key out again while it is processed, and once after done', async () => {
    const { queue } = newQueue();
    queue.add('a');
    expect(await item(queue)).toBe('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const second = track(queue.get());
    await flush();
    expect(second.settled).toBe(false);

    queue.done('a');
    await flush();
    expect(second.value).toEqual({ item: 'a', shutdown: false });

    queue.done('a');
    const third = track(queue.get());
    await flush();
    expect(third.settled).toBe(false);
    queue.shutDown();
  });

  it('lets other keys pass a key that is processed', async () => {
    const { queue } = newQueue();
    queue.add('a');
    expect(await item(queue)).toBe('a');
    queue.add('a');
    queue.add('b');
    expect(await item(queue)).toBe('b');
  });

  it('hands a waiting get the next item added', async () => {
    const { queue } = newQueue();
    const first = track(queue.get());
    const second = track(queue.get());
    await flush();
    expect(first.settled).toBe(false);
    queue.add('a');
    await flush();
    expect(first.value).toEqual({ item: 'a', shutdown: false });
    expect(second.settled).toBe(false);
    queue.add('b');
    await flush();
    expect(second.value).toEqual({ item: 'b', shutdown: false });
  });

  it('ignores done for an item never handed out', async () => {
    const { queue } = newQueue();
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await item(queue)).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  describe('shutDown', () => {
    it('wakes every waiting get with shutdown', async () => {
      const { queue } = newQueue();
      const waiting = [track(queue.get()), track(queue.get()), track(queue.get())];
      await flush();
      expect(waiting.some((w) => w.settled)).toBe(false);
      queue.shutDown();
      await flush();
      expect(waiting.map((w) => w.value)).toEqual([
        { shutdown: true },
        { shutdown: true },
        { shutdown: true },
      ]);
      expect(queue.shuttingDown()).toBe(true);
    });

    it('still hands out queued items, then reports shutdown', async () => {
      const { queue } = newQueue();
      queue.add('a');
      queue.add('b');
      queue.shutDown();
      expect(await queue.get()).toEqual({ item: 'a', shutdown: false });
      expect(await queue.get()).toEqual({ item: 'b', shutdown: false });
      expect(await queue.get()).toEqual({ shutdown: true });
    });

    it('ignores adds after shutdown', async () => {
      const { queue } = newQueue();
      queue.shutDown();
      queue.add('a');
      expect(queue.len()).toBe(0);
      expect(await queue.get()).toEqual({ shutdown: true });
    });

    it('still re-queues a key that was added while processed before the shutdown', async () => {
      const { queue } = newQueue();
      queue.add('a');
      expect(await item(queue)).toBe('a');
      queue.add('a');
      queue.shutDown();
      queue.done('a');
      expect(await queue.get()).toEqual({ item: 'a', shutdown: false });
      expect(await queue.get()).toEqual({ shutdown: true });
    });
  });

  describe('shutDownWithDrain', () => {
    it('resolves true at once when nothing is queued or processed', async () => {
      const { queue } = newQueue();
      expect(await queue.shutDownWithDrain()).toBe(true);
      expect(queue.shuttingDown()).toBe(true);
    });

    it('waits for in-flight and queued items to be done, then resolves true', async () => {
      const { queue, clock } = newQueue();
      queue.add('a');
      queue.add('b');
      expect(await item(queue)).toBe('a');
      const drain = track(queue.shutDownWithDrain({ timeoutMs: 1_000 }));
      queue.add('c');
      expect(queue.len()).toBe(1);

      clock.step(500);
      queue.done('a');
      await flush();
      expect(drain.settled).toBe(false);

      expect(await item(queue)).toBe('b');
      await flush();
      expect(drain.settled).toBe(false);
      queue.done('b');
      await flush();
      expect(drain.value).toBe(true);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('resolves false when the timeout passes first', async () => {
      const { queue, clock } = newQueue();
      queue.add('a');
      expect(await item(queue)).toBe('a');
      const drain = track(queue.shutDownWithDrain({ timeoutMs: 1_000 }));
      clock.step(999);
      await flush();
      expect(drain.settled).toBe(false);
      clock.step(1);
      await flush();
      expect(drain.value).toBe(false);
      queue.done('a');
    });

    it('waits until drained, however long, when no timeout is given (client-go)', async () => {
      const { queue, clock } = newQueue();
      queue.add('a');
      expect(await item(queue)).toBe('a');
      const drain = track(queue.shutDownWithDrain());
      clock.step(3_600_000);
      await flush();
      expect(drain.settled).toBe(false);
      queue.done('a');
      await flush();
      expect(drain.value).toBe(true);
    });

    it('resolves false when the signal aborts, and at once if it already has', async () => {
      const { queue, clock } = newQueue();
      queue.add('a');
      expect(await item(queue)).toBe('a');
      const controller = new AbortController();
      const drain = track(queue.shutDownWithDrain({ signal: controller.signal }));
      await flush();
      expect(drain.settled).toBe(false);
      controller.abort();
      await flush();
      expect(drain.value).toBe(false);
      expect(clock.pendingTimers()).toBe(0);
      expect(await queue.shutDownWithDrain({ signal: AbortSignal.abort() })).toBe(false);
    });

    it('resolves false when shutDown cuts it short', async () => {
      const { queue } = newQueue();
      queue.add('a');
      expect(await item(queue)).toBe('a');
      const drain = track(queue.shutDownWithDrain());
      queue.shutDown();
      await flush();
      expect(drain.value).toBe(false);
    });

    it('wakes waiting gets with shutdown', async () => {
      const { queue } = newQueue();
      const waiting = track(queue.get());
      await queue.shutDownWithDrain();
      await flush();
      expect(waiting.value).toEqual({ shutdown: true } satisfies GetResult<string>);
    });

    it('rejects a timeout that would wait forever', () => {
      const { queue } = newQueue();
      expect(() => queue.shutDownWithDrain({ timeoutMs: Infinity })).toThrow(RangeError);
      expect(() => queue.shutDownWithDrain({ timeoutMs: -1 })).toThrow(RangeError);
    });
  });

  it('spends no more per item on 100,000 items than on 10,000: no step grows with the queue', async () => {
    // The best of three runs, each timing n adds then n get/done pairs. Constant work per item gives
    // a ratio near 1; one step linear in the queue's length (a scan, an array shift) gives about 10.
    const perItemMs = async (n: number): Promise<number> => {
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const { queue } = newQueue();
        const started = performance.now();
        for (let i = 0; i < n; i++) queue.add(`k${i}`);
        for (let i = 0; i < n; i++) queue.done(await item(queue));
        best = Math.min(best, (performance.now() - started) / n);
        expect(queue.len()).toBe(0);
      }
      return best;
    };
    const small = await perItemMs(10_000);
    const large = await perItemMs(100_000);
    expect(large / small).toBeLessThan(4);
  });
});
