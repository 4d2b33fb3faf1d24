export { parseCommandLine, usage, UsageError } from './flags.ts';
export { leaseNamespace, podNamespace } from './pod-namespace.ts';
export { FLAGS, type Settings } from './settings.ts';
