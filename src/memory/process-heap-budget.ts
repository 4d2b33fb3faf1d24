import { HeapBudget, type HeapBudgetOptions } from './heap-budget.ts';
import { v8HeapSource } from './heap-source.ts';

/**
 * The heap budget of this process, a Runnable on every replica (src/manager): it reads V8's heap, and
 * says when the pods cached outgrow it before V8 aborts (README "Sizing"). When the heap is exhausted
 * the cause is already logged (fatal), and a drain could need the heap there is no more of: the
 * process exits 1 at once.
 */
export function processHeapBudget(options: Omit<HeapBudgetOptions, 'source' | 'onExhausted'>): HeapBudget {
  return new HeapBudget({ ...options, source: v8HeapSource(), onExhausted: () => process.exit(1) });
}
