import { totalmem } from 'node:os';
import { constants, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { constrainedLimit, heapFlags, oldSpaceLimit } from './old-space-limit.ts';

/** The heap as the budget sees it. Bytes. */
export interface HeapReading {
  /** The old generation in use: after a full GC, what is live; at other times, garbage included. */
  oldBytes: number;
  /** V8's old-generation limit (old-space-limit.ts). */
  oldLimitBytes: number;
}

/** Where readings come from: V8 in the operator, a script in tests. */
export interface HeapSource {
  /** Calls `listener` after each full (mark-compact) GC; returns the unsubscribe function. */
  onFullGc(listener: (reading: HeapReading) => void): () => void;
  /** Now, without a GC: garbage included. */
  current(): HeapReading;
  /** The container's memory limit (cgroup), undefined when there is none. */
  memoryLimitBytes(): number | undefined;
}

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

function oldBytes(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics())
    if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size;
  return used;
}

/**
 * This process's V8 heap. Full GCs are observed through perf_hooks' `gc` entries (kind major); the
 * reading is taken when the entry is delivered, a moment after the collection, so it may include a
 * little new garbage: the budget errs towards warning early.
 */
export function v8HeapSource(): HeapSource {
  const limit = oldSpaceLimit({
    heapSizeLimit: getHeapStatistics().heap_size_limit,
    flags: heapFlags(process.env.NODE_OPTIONS, process.execArgv),
    constrainedMemory: process.constrainedMemory(),
    totalMemory: totalmem(),
  });
  const current = (): HeapReading => ({ oldBytes: oldBytes(), oldLimitBytes: limit });
  return {
    onFullGc(listener) {
      const observer = new PerformanceObserver((list) => {
        const full = list
          .getEntries()
          .some(
            (e) =>
              (e as { detail?: NodeGCPerformanceDetail }).detail?.kind ===
              constants.NODE_PERFORMANCE_GC_MAJOR,
          );
        if (full) listener(current());
      });
      observer.observe({ entryTypes: ['gc'] });
      return () => {
        observer.disconnect();
      };
    },
    current,
    memoryLimitBytes: () => constrainedLimit(process.constrainedMemory()),
  };
}
