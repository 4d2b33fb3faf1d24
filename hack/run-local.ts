// `make run`, after `make cluster`: runs the operator against .cluster/ in the foreground and, once its
// caches have synced (/readyz answers 200), applies examples/demo/, so that the demo's pods are seen
// from their creation on: added Pending, bound to a node, Running, ready, and a CronJob's pod Succeeded.
// Extra arguments go to the operator. Ctrl-C reaches us alone and we pass it on once: the operator drains
// and exits; so do we. (In our process group it would get the terminal's SIGINT and ours, and take the
// second for "exit at once".) Metrics and probes listen on 127.0.0.1 only.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./cluster/cli.ts', import.meta.url));
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const probes = '127.0.0.1:8081';
const metrics = '127.0.0.1:8080';

const operator = spawn(
  process.execPath,
  [
    main,
    '--kubeconfig',
    '.cluster/kubeconfig',
    `--health-probe-bind-address=${probes}`,
    `--metrics-bind-address=${metrics}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', detached: true },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => operator.kill(signal));
// A closed terminal: the operator drains and exits as on SIGTERM (it does not handle SIGHUP).
process.on('SIGHUP', () => operator.kill('SIGTERM'));
process.on('exit', () => {
  if (operator.exitCode === null && operator.signalCode === null) operator.kill('SIGKILL');
});
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
