import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { MAX_REQUEUES } from '../controllers/index.ts';
import { RETRY_BASE_DELAY_MS } from './defaults.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';
import { defaultControllerRateLimiter, ItemExponentialFailureRateLimiter } from './rate-limiters.ts';

/** Steps the clock 1 ms at a time until the queue has an item; returns how long that took. */
function msUntilReady(queue: RateLimitingQueue, clock: FakeClock, limit = 100_000): number {
  const start = clock.now();
  while (queue.len() === 0) {
    if (clock.now() - start > limit) throw new Error('nothing became ready');
    clock.step(1);
  }
  return clock.now() - start;
}

/** The worker loop of the seed controller: process, and on failure requeue until MAX_REQUEUES. */
async function failOnce(queue: RateLimitingQueue): Promise<string> {
  const result = await queue.get();
  if (result.shutdown) throw new Error('queue shut down');
  if (queue.numRequeues(result.item) < MAX_REQUEUES) queue.addRateLimited(result.item);
  else queue.forget(result.item);
  queue.done(result.item);
  return result.item;
}

describe('RateLimitingQueue', () => {
  it('retries a failing key after 5, 10, 20, 40 and 80 ms with the client-go limiter', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({
      clock,
      rateLimiter: defaultControllerRateLimiter({ retryBaseDelayMs: 5, clock }),
    });
    queue.add('ns/pod');
    const waits: number[] = [];
    await failOnce(queue);
    for (let i = 0; i < 5; i++) {
      waits.push(msUntilReady(queue, clock));
      expect(await failOnce(queue)).toBe('ns/pod');
    }
    expect(waits).toEqual([5, 10, 20, 40, 80]);
    // The last failOnce gave up on the key: it forgot it and did not requeue it.
    expect(queue.numRequeues('ns/pod')).toBe(0);
    clock.step(10_000);
    expect(queue.len()).toBe(0);
  });

  it('counts requeues and resets them on forget', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({
      clock,
      rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000),
    });
    for (let i = 0; i < 5; i++) {
      queue.addRateLimited('a');
      msUntilReady(queue, clock);
      const result = await queue.get();
      expect(result).toEqual({ item: 'a', shutdown: false });
      queue.done('a');
    }
    expect(queue.numRequeues('a')).toBe(5);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    queue.addRateLimited('a');
    expect(msUntilReady(queue, clock)).toBe(5);
  });

  it("defaults to the operator's 1 s base delay", () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    queue.addRateLimited('a');
    expect(msUntilReady(queue, clock, 5_000)).toBe(RETRY_BASE_DELAY_MS);
  });

  it('passes add, addAfter and shutdown through to the delaying queue', async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    queue.addAfter('later', 50);
    queue.add('now');
    expect(queue.len()).toBe(1);
    clock.step(50);
    expect(queue.len()).toBe(2);
    queue.shutDown();
    expect(queue.shuttingDown()).toBe(true);
    expect((await queue.get()).item).toBe('now');
    expect((await queue.get()).item).toBe('later');
    expect(await queue.get()).toEqual({ shutdown: true });
    const drained = queue.shutDownWithDrain({ timeoutMs: 100 });
    queue.done('now');
    queue.done('later');
    expect(await drained).toBe(true);
  });
});
