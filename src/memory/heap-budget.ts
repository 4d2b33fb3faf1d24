import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { aborted } from '../clock/index.ts';
import {
  DEPLOYED_OLD_SPACE_PERCENTAGE,
  EXHAUSTED_SHARE,
  MEMORY_LIMIT_STEP,
  RELIST_FACTOR,
  RELIST_HEADROOM,
} from './defaults.ts';
import type { HeapReading, HeapSource } from './heap-source.ts';

const MIB = 2 ** 20;

export interface BudgetRules {
  relistFactor: number;
  relistHeadroom: number;
  exhaustedShare: number;
  /** The old generation's share of the memory limit, in percent (NODE_OPTIONS of deploy/). */
  oldSpacePercentage: number;
}

export const DEFAULT_BUDGET_RULES: BudgetRules = {
  relistFactor: RELIST_FACTOR,
  relistHeadroom: RELIST_HEADROOM,
  exhaustedShare: EXHAUSTED_SHARE,
  oldSpacePercentage: DEPLOYED_OLD_SPACE_PERCENTAGE,
};

/**
 * fits: a relist fits with headroom. relist-too-large: the cache would not fit twice (so the next
 * relist, or the initial list still arriving, may exhaust the heap). exhausted: the live heap is at
 * the limit now.
 */
export type Verdict = 'fits' | 'relist-too-large' | 'exhausted';

/** One reading judged. Bytes. */
export interface Assessment {
  verdict: Verdict;
  liveBytes: number;
  oldLimitBytes: number;
  /** What the caches hold: the live heap less what the operator held before caching anything. */
  cacheBytes: number;
  /** The live heap while a relist holds the cache `relistFactor` times. */
  relistPeakBytes: number;
  /** The old-generation limit under which that peak stays within the headroom. */
  neededOldLimitBytes: number;
  /** The memory limit that gives that old generation at `oldSpacePercentage`. */
  neededMemoryLimitBytes: number;
}

/**
 * Judges a reading. `baselineBytes`: the old generation with nothing cached. Before the first list has
 * completed the cache is partial, so the relist peak is a lower bound: exceeding it already says the
 * heap is too small.
 */
export function assess(reading: HeapReading, baselineBytes: number, rules: BudgetRules): Assessment {
  const live = reading.oldBytes;
  const limit = reading.oldLimitBytes;
  const cache = Math.max(0, live - baselineBytes);
  const peak = live + (rules.relistFactor - 1) * cache;
  const neededOld = peak / rules.relistHeadroom;
  const neededMemory =
    Math.ceil(neededOld / (rules.oldSpacePercentage / 100) / MEMORY_LIMIT_STEP) * MEMORY_LIMIT_STEP;
  const verdict: Verdict =
    live >= rules.exhaustedShare * limit
      ? 'exhausted'
      : peak > rules.relistHeadroom * limit
        ? 'relist-too-large'
        : 'fits';
  return {
    verdict,
    liveBytes: live,
    oldLimitBytes: limit,
    cacheBytes: cache,
    relistPeakBytes: peak,
    neededOldLimitBytes: Math.ceil(neededOld / MIB) * MIB,
    neededMemoryLimitBytes: neededMemory,
  };
}

export interface HeapBudgetOptions {
  source: HeapSource;
  /** Pods in the cache now, for the messages (0 while the first watch-list is still arriving). */
  cachedPods: () => number;
  /** Whether the caches have synced: from then on the pods cached are all the pods. */
  hasSynced: () => boolean;
  logger: Logger;
  registry?: Registry;
  /** Called once, after the fatal line, when the heap is exhausted; the operator exits 1. */
  onExhausted: (assessment: Assessment) => void;
  rules?: Partial<BudgetRules>;
}

const mib = (bytes: number): number => Math.round(bytes / MIB);

/** The `err` of the budget's error and fatal lines: the verdict in one line; the message says the rest. */
export class HeapBudgetError extends Error {
  override name = 'HeapBudgetError';
}

/**
 * Watches the live heap after every full GC against V8's old-generation limit and says, in the log
 * and as metrics, when the pods cached would not fit a relist (error), and when the heap is exhausted
 * (fatal, then `onExhausted`), each time with the pod count, the limits in force and the memory limit
 * to set. A heap too small for the cluster then shows as a named cause and remedy, not as V8's abort
 * and a silent crash loop. Sizing rules: src/memory/defaults.ts, docs/sizing.md.
 */
export class HeapBudget {
  readonly #source: HeapSource;
  readonly #cachedPods: () => number;
  readonly #hasSynced: () => boolean;
  readonly #log: Logger;
  readonly #onExhausted: (assessment: Assessment) => void;
  readonly #rules: BudgetRules;
  readonly #gauges: { live: Gauge; limit: Gauge; peak: Gauge };
  #baseline = Number.POSITIVE_INFINITY;
  #verdict: Verdict = 'fits';
  #reportedSync = false;

  constructor(options: HeapBudgetOptions) {
    this.#source = options.source;
    this.#cachedPods = options.cachedPods;
    this.#hasSynced = options.hasSynced;
    this.#log = options.logger.child({ component: 'heap-budget' });
    this.#onExhausted = options.onExhausted;
    this.#rules = { ...DEFAULT_BUDGET_RULES, ...options.rules };
    const registers = options.registry ? [options.registry] : [];
    this.#gauges = {
      live: new Gauge({
        name: 'pod_sync_operator_heap_live_bytes',
        help: "V8's old generation in use after the last full GC",
        registers,
      }),
      limit: new Gauge({
        name: 'pod_sync_operator_heap_limit_bytes',
        help: "V8's old-generation limit: the live heap beyond it aborts the process",
        registers,
      }),
      peak: new Gauge({
        name: 'pod_sync_operator_heap_relist_peak_bytes',
        help: 'The live heap projected for a relist, which holds the pod cache twice; keep it under 80% of the limit',
        registers,
      }),
    };
  }

  /**
   * Takes the baseline (nothing cached yet, so the manager starts it before the caches) and judges
   * every full GC until `signal` aborts. A Runnable on every replica (src/manager).
   */
  async start(signal: AbortSignal): Promise<void> {
    const now = this.#source.current();
    this.#baseline = Math.min(this.#baseline, now.oldBytes);
    this.#gauges.limit.set(now.oldLimitBytes);
    const unsubscribe = this.#source.onFullGc((reading) => {
      this.observe(reading);
    });
    try {
      await aborted(signal);
    } finally {
      unsubscribe();
    }
  }

  /** Judges one full-GC reading; logs and calls back on a change of verdict. */
  observe(reading: HeapReading): Assessment {
    this.#baseline = Math.min(this.#baseline, reading.oldBytes);
    const a = assess(reading, this.#baseline, this.#rules);
    this.#gauges.live.set(a.liveBytes);
    this.#gauges.limit.set(a.oldLimitBytes);
    this.#gauges.peak.set(a.relistPeakBytes);
    const previous = this.#verdict;
    this.#verdict = a.verdict;
    const fields = this.#fields(a);
    if (a.verdict === 'exhausted') {
      if (previous === 'exhausted') return a;
      const err = new HeapBudgetError(
        `heap exhausted: ${mib(a.liveBytes)} MiB live at a ${mib(a.oldLimitBytes)} MiB old-generation limit`,
      );
      this.#log.fatal(
        { err, ...fields },
        `heap exhausted: ${mib(a.liveBytes)} MiB live after a full GC, at the ${mib(a.oldLimitBytes)} MiB old-generation limit, with ${this.#cached()}; exiting before V8 aborts. ${this.#remedy(a)}`,
      );
      this.#onExhausted(a);
      return a;
    }
    if (a.verdict === 'relist-too-large' && previous !== 'relist-too-large') {
      const err = new HeapBudgetError(
        `heap too small for a relist: ${mib(a.relistPeakBytes)} MiB at a ${mib(a.oldLimitBytes)} MiB old-generation limit`,
      );
      this.#log.error(
        { err, ...fields },
        `heap too small for the pods: ${this.#cached()} take ${mib(a.cacheBytes)} MiB, and a relist holds them twice (about ${mib(a.relistPeakBytes)} MiB live), more than ${Math.round(this.#rules.relistHeadroom * 100)}% of the ${mib(a.oldLimitBytes)} MiB old-generation limit. ${this.#remedy(a)}`,
      );
    } else if (a.verdict === 'fits' && previous === 'relist-too-large') {
      this.#log.info(fields, 'heap budget: a relist fits again');
    }
    if (!this.#reportedSync && this.#hasSynced()) {
      this.#reportedSync = true;
      this.#log.info(
        fields,
        `heap budget: ${this.#cached()} take ${mib(a.cacheBytes)} MiB; a relist would peak near ${mib(a.relistPeakBytes)} MiB of the ${mib(a.oldLimitBytes)} MiB old-generation limit`,
      );
    }
    return a;
  }

  /** "12,000 pods cached", or, while the first watch-list gathers its pods aside, what is known. */
  #cached(): string {
    const pods = this.#cachedPods();
    return pods > 0 || this.#hasSynced()
      ? `${pods.toLocaleString('en-US')} pods cached`
      : 'the pods listed so far (the first list had not completed)';
  }

  #remedy(a: Assessment): string {
    const memory = this.#source.memoryLimitBytes();
    const percentage = this.#rules.oldSpacePercentage;
    const more = this.#hasSynced() ? '' : ', more for the pods not listed yet';
    const now = memory === undefined ? 'none is set' : `it is ${mib(memory)} MiB`;
    return (
      `Set the container's memory limit to at least ${mib(a.neededMemoryLimitBytes)} MiB${more} (${now}) ` +
      `with NODE_OPTIONS=--max-old-space-size-percentage=${percentage}, ` +
      `or give V8 an old generation of at least ${mib(a.neededOldLimitBytes)} MiB; see docs/sizing.md.`
    );
  }

  #fields(a: Assessment): Record<string, number | undefined> {
    const memory = this.#source.memoryLimitBytes();
    return {
      pods: this.#cachedPods(),
      liveHeapMiB: mib(a.liveBytes),
      oldSpaceLimitMiB: mib(a.oldLimitBytes),
      cacheMiB: mib(a.cacheBytes),
      relistPeakMiB: mib(a.relistPeakBytes),
      memoryLimitMiB: memory === undefined ? undefined : mib(memory),
      neededMemoryLimitMiB: mib(a.neededMemoryLimitBytes),
      neededOldSpaceMiB: mib(a.neededOldLimitBytes),
    };
  }
}
