// Runs one control-plane binary and ends it when the process that started this guard goes away.
// Our stdin is a pipe from that parent: EOF means the parent exited, even by SIGKILL, which no exit
// handler of its own can observe. Usage: node guard.ts <command> [args...]
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('guard: usage: node guard.ts <command> [args...]');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let killTimer: NodeJS.Timeout | undefined;

function stopChild(): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  killTimer ??= setTimeout(() => child.kill('SIGKILL'), 5_000);
}

process.stdin.on('end', stopChild);
process.stdin.on('error', stopChild);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stopChild);

child.on('error', (err) => {
  console.error(`guard: cannot start ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  clearTimeout(killTimer);
  process.exit(code ?? (signal === null ? 1 : 128 + constants.signals[signal]));
});
