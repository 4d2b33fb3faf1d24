export { parseCommandLine, usage, UsageError } from './flags.ts';
export { leaseNamespace, podNamespace } from './pod-namespace.ts';
export { FLAGS, type Settings } from './settings.ts';
export { FLAG_TABLE_BEGIN, FLAG_TABLE_END, flagTable } from './flag-table.ts';
