import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { inject } from 'vitest';
import { tiedToParent } from './tied.ts';
import { type LogLine } from '../../src/testing/index.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'main.ts');

export interface OperatorProcess {
  child: ChildProcess;
  lines: LogLine[];
  stderr: () => string;
  /** Resolves with the first line matching, or rejects after timeoutMs. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** The metrics and probe servers' URLs, from the start-up line. */
  addresses(): Promise<{ metrics: string; probes: string }>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The command line of a replica that watches `namespace` and holds its Lease there (--leader-elect),
 * through `kubeconfig` (default: the test cluster's admin).
 */
export function leaderElectArgs(namespace: string, kubeconfig: string = inject('kubeconfig')): string[] {
  return [
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    namespace,
    '--leader-elect',
    `--leader-election-namespace=${namespace}`,
  ];
}

export interface StartOptions {
  /** The program and its leading arguments; default: this Node and src/main.ts. */
  command?: readonly [string, ...string[]];
}

/** Runs src/main.ts as its own process, its servers on ephemeral loopback ports unless args say otherwise. */
export function startOperator(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: StartOptions = {},
): OperatorProcess {
  const [program, ...leading] = options.command ?? [process.execPath, main];
  const child = spawn(
    ...tiedToParent(program, [
      ...leading,
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      ...args,
    ]),
    { env: { PATH: process.env.PATH, HOME: tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: LogLine[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      lines.push({ msg: line, raw: true });
    }
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const waitFor = (match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; last lines:\n${lines
              .slice(-10)
              .map((l) => JSON.stringify(l))
              .join('\n')}\n${stderr}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    lines,
    stderr: () => stderr,
    waitFor,
    exited,
    async addresses() {
      const line = await waitFor((l) => l.msg === 'starting pod-sync-operator');
      // URLs: https:// for a --metrics-secure metrics server.
      const [metrics = '', probes = ''] = line.servers as string[];
      return { metrics, probes };
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
