export { exitCodeOf, runCommand, type CommandIo, type Operator } from './command.ts';
export { EXIT_GRACE_MS } from './defaults.ts';
