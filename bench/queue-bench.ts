// The work-queue microbenchmark, the TypeScript twin of bench/go/workqueue/workqueue_bench_test.go:
// batches of 1,000 keys are added, taken and marked done, each operation timed; then 100,000 keys are
// queued at once to measure the heap held per pending key. Run with --expose-gc (bench/run.ts does);
// prints one JSON object on stdout.
//
//   node --expose-gc bench/queue-bench.ts [--seconds 2]
import { parseArgs } from 'node:util';
import { Queue, RateLimitingQueue, type RateLimitingWorkQueue, type WorkQueue } from '../src/queue/index.ts';

const BATCH = 1_000;
const MEMORY_KEYS = 100_000;

export interface QueueCycleResult {
  /** Keys that went through add, get and done. */
  keys: number;
  addNsPerKey: number;
  getNsPerKey: number;
  doneNsPerKey: number;
}

export interface QueueBenchResult {
  queue: QueueCycleResult;
  rateLimitingQueue: QueueCycleResult;
  /** Heap bytes per pending key of a plain Queue holding MEMORY_KEYS keys. */
  bytesPerQueuedKey: number;
}

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `default/pod-${String(i).padStart(6, '0')}`);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
}

async function cycle(
  queue: WorkQueue<string>,
  seconds: number,
  forget?: (key: string) => void,
): Promise<QueueCycleResult> {
  const batch = keys(BATCH);
  let add = 0n;
  let get = 0n;
  let done = 0n;
  let n = 0;
  const until = performance.now() + seconds * 1000;
  // One untimed warm-up round per 10 timed ones would skew nothing; the first seconds let V8 optimise.
  const warmUntil = performance.now() + Math.min(0.5, seconds / 4) * 1000;
  const got: string[] = new Array<string>(BATCH);
  for (let round = 0; ; round++) {
    const t0 = process.hrtime.bigint();
    for (const key of batch) queue.add(key);
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) {
      const next = await queue.get();
      if (next.shutdown) throw new Error('queue shut down');
      got[i] = next.item;
    }
    const t2 = process.hrtime.bigint();
    for (const key of got) {
      forget?.(key);
      queue.done(key);
    }
    const t3 = process.hrtime.bigint();
    const now = performance.now();
    if (now < warmUntil) continue;
    add += t1 - t0;
    get += t2 - t1;
    done += t3 - t2;
    n += BATCH;
    if (now >= until && round > 0) break;
  }
  return {
    keys: n,
    addNsPerKey: Number(add) / n,
    getNsPerKey: Number(get) / n,
    doneNsPerKey: Number(done) / n,
  };
}

function bytesPerQueuedKey(): number {
  const all = keys(MEMORY_KEYS);
  gc();
  const before = process.memoryUsage().heapUsed;
  const queue = new Queue<string>();
  for (const key of all) queue.add(key);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (queue.len() !== MEMORY_KEYS || all.length !== MEMORY_KEYS) throw new Error('keys lost');
  queue.shutDown();
  return (after - before) / MEMORY_KEYS;
}

export async function runQueueBench(seconds: number): Promise<QueueBenchResult> {
  const plain = new Queue<string>();
  const queue = await cycle(plain, seconds);
  plain.shutDown();
  const limited: RateLimitingWorkQueue<string> = new RateLimitingQueue<string>();
  const rateLimitingQueue = await cycle(limited, seconds, (key) => {
    limited.forget(key);
  });
  limited.shutDown();
  // Three measurements, the median: a GC that runs late skews one.
  const memory = [bytesPerQueuedKey(), bytesPerQueuedKey(), bytesPerQueuedKey()].sort((a, b) => a - b);
  return { queue, rateLimitingQueue, bytesPerQueuedKey: memory[1] ?? Number.NaN };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
  const result = await runQueueBench(Number(values.seconds));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
