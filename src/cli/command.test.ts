import { afterEach, describe, expect, it } from 'vitest';
import { KubeconfigError } from '../clientcmd/index.ts';
import { UsageError } from '../config/index.ts';
import { captureLogs } from '../testing/index.ts';
import { exitCodeOf, type CommandIo, type Operator } from './command.ts';

const QUIET = ['--log-level=fatal'];

function io(): { stdout: string[]; stderr: string[]; write: CommandIo } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    write: {
      stdout: { write: (t: string) => stdout.push(t) },
      stderr: { write: (t: string) => stderr.push(t) },
    },
  };
}

describe('exitCodeOf', () => {
  const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
  afterEach(() => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      for (const l of process.listeners(signal)) {
        if (!(signal === 'SIGTERM' ? before.term : before.int).includes(l)) process.off(signal, l);
      }
    }
  });

  it('exits 2 on a bad flag with one line on stderr, before the operator runs', async () => {
    const out = io();
    let ran = false;
    const operator: Operator = () => {
      ran = true;
      return Promise.resolve(undefined);
    };
    expect(await exitCodeOf(['--workers=0'], {}, operator, out.write)).toBe(2);
    expect(out.stderr).toEqual([expect.stringMatching(/^pod-sync-operator: .*--workers.*\(see --help\)\n$/)]);
    expect(ran).toBe(false);
  });

  it('answers --help and --version on stdout with 0', async () => {
    const out = io();
    const never: Operator = () => Promise.reject(new Error('must not run'));
    expect(await exitCodeOf(['--help'], {}, never, out.write)).toBe(0);
    expect(await exitCodeOf(['--version'], {}, never, out.write)).toBe(0);
    expect(out.stdout[0]).toMatch(/^Usage: pod-sync-operator/);
    expect(out.stdout[1]).toMatch(/^pod-sync-operator \d/);
  });

  it.each([
    ['a clean stop', () => Promise.resolve(undefined), 0],
    ['a failure it stopped on', () => Promise.resolve(new Error('leader election lost')), 1],
    ['a start that failed', () => Promise.reject(new Error('listen EADDRINUSE')), 1],
    ['bad input found at start', () => Promise.reject(new UsageError('--metrics-cert-dir x: no tls.crt')), 2],
    ['a kubeconfig that cannot be used', () => Promise.reject(new KubeconfigError('no cluster')), 2],
  ] as const)('maps %s to %i', async (_, operator, code) => {
    expect(await exitCodeOf(QUIET, {}, operator, io().write)).toBe(code);
  });

  it('logs one warning line per deprecated name used, before the operator runs', async () => {
    const { logger, lines } = captureLogs('info');
    const seen: string[] = [];
    const operator: Operator = (settings) => {
      seen.push(...lines.map((l) => String(l.msg)), `maxRequeues=${settings.maxRequeues}`);
      return Promise.resolve(undefined);
    };
    const code = await exitCodeOf(['--max-retries=3'], {}, operator, { ...io().write, logger: () => logger });
    expect(code).toBe(0);
    expect(seen).toEqual([
      'Flag --max-retries has been deprecated, use --max-requeues instead',
      'maxRequeues=3',
    ]);
    expect(lines[0]?.level).toBe(40);
  });

  it('hands the operator the parsed settings and a signal that SIGTERM aborts', async () => {
    const code = exitCodeOf([...QUIET, '--workers=3'], {}, async (settings, _log, shutdown) => {
      expect(settings.workers).toBe(3);
      process.emit('SIGTERM', 'SIGTERM');
      expect(shutdown.aborted).toBe(true);
      return Promise.resolve(undefined);
    });
    expect(await code).toBe(0);
  });
});
