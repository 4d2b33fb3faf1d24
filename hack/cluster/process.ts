import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const guardScript = fileURLToPath(new URL('./guard.ts', import.meta.url));

export interface ProcessSpec {
  command: string;
  args: string[];
  /** stdout and stderr go here, appended. */
  logFile: string;
  /**
   * Tie the process's life to ours through a guard (tests). Off for `make cluster`, whose processes
   * must outlive the command that started them.
   */
  guarded: boolean;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/**
 * A control-plane process in its own process group, so that stopping it reaches every process it
 * started and a Ctrl-C in the terminal does not kill it before we stop it in order.
 */
export class ManagedProcess {
  readonly pid: number;
  readonly spec: ProcessSpec;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  private constructor(spec: ProcessSpec, child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`cannot start ${spec.command}`);
    this.pid = child.pid;
    this.spec = spec;
    this.child = child;
    this.exited = once(child, 'exit').then(() => undefined);
  }

  static start(spec: ProcessSpec): ManagedProcess {
    const log = openSync(spec.logFile, 'a');
    try {
      const [command, args] = spec.guarded
        ? [process.execPath, [guardScript, spec.command, ...spec.args]]
        : [spec.command, spec.args];
      const child = spawn(command, args, {
        detached: true,
        env: { ...process.env, ...spec.env },
        stdio: [spec.guarded ? 'pipe' : 'ignore', log, log],
      });
      // Neither the child nor the guard's pipe may keep the parent's event loop alive: if the parent
      // exits without stopping us, the pipe closes and the guard stops the binary.
      child.unref();
      child.stdin?.on('error', () => undefined);
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      return new ManagedProcess(spec, child);
    } finally {
      closeSync(log);
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the process's log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** SIGTERM to the group, SIGKILL after timeoutMs. Resolves once the process has exited. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
    // The guard has exited; make sure nothing it started is left in the group.
    signalGroup(this.pid, 'SIGKILL');
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
  }

  async waitForExit(): Promise<void> {
    await this.exited;
  }
}

/** Signals a process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Whether the pid runs: a zombie (exited, not yet reaped by whoever adopted it) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the command name in parentheses (which may itself hold spaces).
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
