export { DEPLOYED_OLD_SPACE_PERCENTAGE } from './defaults.ts';
export { HeapBudget } from './heap-budget.ts';
export { v8HeapSource } from './heap-source.ts';
export type { HeapReading } from './heap-source.ts';
export { processHeapBudget } from './process-heap-budget.ts';
