// `make run`, after `make cluster`: runs the operator against .cluster/ in the foreground and, once its
// caches have synced (/readyz answers 200), applies examples/demo/, so that the demo's pods are seen
// from their creation on: added Pending, bound to a node, Running, ready, and a CronJob's pod Succeeded.
// Extra arguments go to the operator. Ctrl-C reaches the operator, which drains and exits; so do we.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./cluster/cli.ts', import.meta.url));
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const probes = '127.0.0.1:8081';

const operator = spawn(
  process.execPath,
  [
    main,
    '--kubeconfig',
    '.cluster/kubeconfig',
    `--health-probe-bind-address=${probes}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
// The terminal's Ctrl-C reaches the operator directly (same process group); wait for it to finish.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => operator.kill(signal));
operator.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

async function ready(): Promise<boolean> {
  try {
    return (await fetch(`http://${probes}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

const deadline = Date.now() + 60_000;
while (!(await ready())) {
  if (operator.exitCode !== null || Date.now() > deadline) process.exit(operator.exitCode ?? 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
}
spawn(process.execPath, [cli, 'demo'], { stdio: 'inherit' });
