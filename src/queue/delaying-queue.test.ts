import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { DelayingQueue } from './delaying-queue.ts';
import { Queue } from './queue.ts';

async function drainReady(queue: DelayingQueue): Promise<string[]> {
  const items: string[] = [];
  while (queue.len() > 0) {
    const result = await queue.get();
    if (result.shutdown) break;
    items.push(result.item);
    queue.done(result.item);
  }
  return items;
}

function newQueue(): { queue: DelayingQueue; clock: FakeClock } {
  const clock = new FakeClock(1_000_000);
  return { queue: new DelayingQueue({ clock }), clock };
}

describe('DelayingQueue', () => {
  it('adds each item when its delay has passed, in ready-time order', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('late', 300);
    queue.addAfter('early', 100);
    queue.addAfter('middle', 200);
    expect(queue.len()).toBe(0);

    clock.step(99);
    expect(queue.len()).toBe(0);
    clock.step(1);
    expect(await drainReady(queue)).toEqual(['early']);
    clock.step(150);
    expect(await drainReady(queue)).toEqual(['middle']);
    clock.step(50);
    expect(await drainReady(queue)).toEqual(['late']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('releases every item due within one step, oldest deadline first', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('c', 30);
    queue.addAfter('a', 10);
    queue.addAfter('b', 20);
    clock.step(1_000);
    expect(await drainReady(queue)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the earlier ready time when an item is added after a delay again', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('x', 50);
    queue.addAfter('x', 70);
    clock.step(60);
    expect(await drainReady(queue)).toEqual(['x']);
    clock.step(20);
    expect(queue.len()).toBe(0);

    queue.addAfter('x', 50);
    queue.addAfter('x', 30);
    clock.step(29);
    expect(queue.len()).toBe(0);
    clock.step(1);
    expect(await drainReady(queue)).toEqual(['x']);
    clock.step(100);
    expect(queue.len()).toBe(0);
  });

  it('arms a single timer however many items wait', () => {
    const { queue, clock } = newQueue();
    for (let i = 0; i < 1_000; i++) queue.addAfter(`k${i}`, 10 + (i % 97));
    expect(clock.pendingTimers()).toBe(1);
    clock.step(50);
    expect(clock.pendingTimers()).toBe(1);
    clock.step(100);
    expect(queue.len()).toBe(1_000);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('re-arms the timer for an earlier deadline', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('later', 1_000);
    queue.addAfter('sooner', 10);
    expect(clock.pendingTimers()).toBe(1);
    clock.step(10);
    expect(await drainReady(queue)).toEqual(['sooner']);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('adds an item at once for a delay of zero or less', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('zero', 0);
    queue.addAfter('negative', -5);
    expect(queue.len()).toBe(2);
    expect(clock.pendingTimers()).toBe(0);
    expect(await drainReady(queue)).toEqual(['zero', 'negative']);
  });

  it('drops the delayed entry of an item added at once, so it is handed out once', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.add('a');
    expect(clock.pendingTimers()).toBe(0);
    expect(await drainReady(queue)).toEqual(['a']);
    clock.step(200);
    expect(queue.len()).toBe(0);
  });

  it('drops the delayed entry when a zero delay adds the item at once', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.addAfter('b', 150);
    queue.addAfter('a', 0);
    expect(await drainReady(queue)).toEqual(['a']);
    clock.step(200);
    expect(await drainReady(queue)).toEqual(['b']);
  });

  it('still dedupes a released item against one already queued', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.add('b');
    clock.step(100);
    queue.add('b');
    expect(await drainReady(queue)).toEqual(['b', 'a']);
  });

  it('approaches a deadline beyond what one timer holds', async () => {
    const { queue, clock } = newQueue();
    const thirtyDays = 30 * 24 * 3_600_000;
    queue.addAfter('far', thirtyDays);
    clock.step(thirtyDays - 1);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(1);
    clock.step(1);
    expect(await drainReady(queue)).toEqual(['far']);
  });

  it('forgets waiting items and clears its timer on shutdown', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('a', 100);
    queue.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    clock.step(200);
    expect(await queue.get()).toEqual({ shutdown: true });
    queue.addAfter('b', 10);
    queue.addAfter('c', 0);
    expect(clock.pendingTimers()).toBe(0);
    expect(queue.len()).toBe(0);
  });

  it('clears its timer on shutDownWithDrain and waits for in-flight work', async () => {
    const { queue, clock } = newQueue();
    queue.add('a');
    queue.addAfter('b', 100);
    const got = await queue.get();
    const drained = queue.shutDownWithDrain({ timeoutMs: 5_000 });
    expect(clock.pendingTimers()).toBe(1);
    if (!got.shutdown) queue.done(got.item);
    expect(await drained).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('feeds a queue it is given', async () => {
    const clock = new FakeClock();
    const inner = new Queue({ clock });
    const queue = new DelayingQueue({ clock, queue: inner });
    queue.addAfter('a', 10);
    clock.step(10);
    expect(inner.len()).toBe(1);
    expect(await inner.get()).toEqual({ item: 'a', shutdown: false });
  });
});
