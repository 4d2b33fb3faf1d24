// Runs a program with its stdout on a pipe or on a pseudo-terminal, until its output matches, to see
// what a person at a terminal sees. The terminal is util-linux `script`, which runs the program on a
// new pty and copies what it writes there to its own stdout.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import { signalGroup } from '../../hack/cluster/process.ts';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

export interface Output {
  text: string;
  /** Each line without its terminal colour codes. */
  lines: string[];
}

export async function outputUntil(
  command: string,
  args: readonly string[],
  options: { terminal: boolean; until: RegExp; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Output> {
  const [program, argv] = options.terminal
    ? ['script', ['-qfec', [command, ...args].map(quote).join(' '), '/dev/null']]
    : [command, [...args]];
  // Its own process group, so that stopping it reaches the program under `script` too.
  const child = spawn(program, argv, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...options.env },
  });
  const exited = once(child, 'exit');
  let text = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const plain = () => stripVTControlCharacters(text).replaceAll('\r', '');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no output matching ${options.until} within ${options.timeoutMs ?? 30_000} ms:\n${text}\n${stderr}`,
          ),
        );
      }, options.timeoutMs ?? 30_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (options.until.test(plain())) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        if (options.until.test(plain())) resolve();
        else reject(new Error(`exited before output matched ${options.until}:\n${text}\n${stderr}`));
      });
    });
  } finally {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    await exited;
  }
  return {
    text,
    lines: plain()
      .split('\n')
      .filter((l) => l.trim() !== ''),
  };
}

/** Whether a line is one JSON object, as the operator writes when it does not log for people. */
export function isJsonLine(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}
