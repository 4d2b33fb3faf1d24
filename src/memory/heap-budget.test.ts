import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { assess, DEFAULT_BUDGET_RULES, HeapBudget, type Assessment } from './heap-budget.ts';
import type { HeapReading, HeapSource } from './heap-source.ts';
import { captureLogs } from '../testing/index.ts';

const MIB = 2 ** 20;

/** A heap driven by the test: gc() delivers a full-GC reading. */
class ScriptedHeap implements HeapSource {
  oldBytes = 20 * MIB;
  readonly limit: number;
  readonly memory: number | undefined;
  #listener: ((r: HeapReading) => void) | undefined;

  constructor(limitMiB: number, memoryMiB?: number) {
    this.limit = limitMiB * MIB;
    this.memory = memoryMiB === undefined ? undefined : memoryMiB * MIB;
  }

  onFullGc(listener: (r: HeapReading) => void): () => void {
    this.#listener = listener;
    return () => (this.#listener = undefined);
  }

  current(): HeapReading {
    return { oldBytes: this.oldBytes, oldLimitBytes: this.limit };
  }

  memoryLimitBytes(): number | undefined {
    return this.memory;
  }

  gc(liveMiB: number): void {
    this.oldBytes = liveMiB * MIB;
    this.#listener?.(this.current());
  }
}

function budget(heap: ScriptedHeap, pods: () => number, synced: () => boolean = () => false) {
  const { logger, lines } = captureLogs('info');
  const exhausted: Assessment[] = [];
  const registry = new Registry();
  const b = new HeapBudget({
    source: heap,
    cachedPods: pods,
    hasSynced: synced,
    logger,
    registry,
    onExhausted: (a) => exhausted.push(a),
  });
  const stop = new AbortController();
  const start = () => b.start(stop.signal);
  return { start, stop, lines, exhausted, registry };
}

describe('assess', () => {
  it('projects a relist as the cache held twice, and the memory limit that fits it', () => {
    const a = assess({ oldBytes: 120 * MIB, oldLimitBytes: 384 * MIB }, 20 * MIB, DEFAULT_BUDGET_RULES);
    expect(a.cacheBytes).toBe(100 * MIB);
    expect(a.relistPeakBytes).toBe(220 * MIB);
    expect(a.verdict).toBe('fits'); // 220 <= 0.8 * 384 = 307
    // 220 / 0.8 = 275 MiB of old generation; / 0.75 = 366.7 MiB, in steps of 64: 384.
    expect(a.neededOldLimitBytes).toBe(275 * MIB);
    expect(a.neededMemoryLimitBytes).toBe(384 * MIB);
  });

  it('calls a heap whose relist would pass 80% of the limit too small, and 90% live exhausted', () => {
    const rules = DEFAULT_BUDGET_RULES;
    expect(assess({ oldBytes: 170 * MIB, oldLimitBytes: 384 * MIB }, 20 * MIB, rules).verdict).toBe(
      'relist-too-large',
    ); // 320 > 307
    expect(assess({ oldBytes: 345 * MIB, oldLimitBytes: 384 * MIB }, 20 * MIB, rules).verdict).toBe(
      'relist-too-large',
    );
    expect(assess({ oldBytes: 346 * MIB, oldLimitBytes: 384 * MIB }, 20 * MIB, rules).verdict).toBe(
      'exhausted',
    );
  });
});

describe('HeapBudget', () => {
  it('says nothing while a relist fits, then reports the heap the cached pods take once synced', () => {
    const heap = new ScriptedHeap(384, 512);
    let pods = 0;
    let synced = false;
    const { start, lines, exhausted } = budget(
      heap,
      () => pods,
      () => synced,
    );
    void start();
    heap.gc(25);
    pods = 10_000;
    synced = true;
    heap.gc(45);
    heap.gc(46);
    expect(exhausted).toEqual([]);
    expect(lines.filter((l) => (l.level ?? 0) >= 40)).toEqual([]);
    const report = lines.filter((l) => l.msg?.startsWith('heap budget:'));
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ pods: 10_000, cacheMiB: 25, liveHeapMiB: 45, oldSpaceLimitMiB: 384 });
  });

  it('errors once when the pods would not fit a relist, naming the count, the limits and the limit to set', async () => {
    const heap = new ScriptedHeap(384, 512);
    const pods = 60_000;
    const { start, lines, exhausted, registry } = budget(
      heap,
      () => pods,
      () => true,
    );
    void start();
    heap.gc(200);
    heap.gc(210);
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toContain('60,000 pods cached take 180 MiB');
    expect(errors[0]?.msg).toContain('384 MiB old-generation limit');
    expect(errors[0]?.msg).toContain('(it is 512 MiB)');
    // The first reading: (200 + 180) / 0.8 = 475 MiB of old generation; / 0.75 = 633: 640 MiB.
    expect(errors[0]?.msg).toContain('memory limit to at least 640 MiB');
    expect(errors[0]).toMatchObject({ pods: 60_000, memoryLimitMiB: 512, neededMemoryLimitMiB: 640 });
    expect(exhausted).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain(`pod_sync_operator_heap_relist_peak_bytes ${400 * MIB}`);
    expect(text).toContain(`pod_sync_operator_heap_limit_bytes ${384 * MIB}`);
    heap.gc(100);
    expect(lines.at(-1)?.msg).toBe('heap budget: a relist fits again');
  });

  it('while the first list arrives: warns as soon as even the partial cache would not fit twice', () => {
    const heap = new ScriptedHeap(64);
    const { start, lines } = budget(heap, () => 0);
    void start();
    heap.gc(40); // 20 MiB cached so far: 60 > 51.2
    const error = lines.find((l) => l.level === 50);
    expect(error?.msg).toContain('the pods listed so far (the first list had not completed) take 20 MiB');
    expect(error?.msg).toContain('more for the pods not listed yet');
    expect(error?.msg).toContain('(none is set)');
  });

  it('exhausted: one fatal line with the remedy, then the callback, once', () => {
    const heap = new ScriptedHeap(64);
    const { start, lines, exhausted } = budget(heap, () => 0);
    void start();
    heap.gc(58);
    heap.gc(60);
    expect(exhausted).toHaveLength(1);
    const fatal = lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toMatch(
      /^heap exhausted: 58 MiB live after a full GC, at the 64 MiB old-generation limit/,
    );
    expect(fatal[0]?.msg).toContain('exiting before V8 aborts');
    // (58 + 38) / 0.8 = 120 MiB; / 0.75 = 160: 192 MiB.
    expect(fatal[0]?.msg).toContain('memory limit to at least 192 MiB');
  });

  it('unsubscribes once its signal aborts', async () => {
    const heap = new ScriptedHeap(64);
    const { start, stop, exhausted } = budget(heap, () => 0);
    const running = start();
    stop.abort();
    await running;
    heap.gc(63);
    expect(exhausted).toEqual([]);
  });
});
