// A memory cgroup for one contender, so that it runs under the container's memory limit as the kubelet
// would start it: Node reads the limit at start (libuv's uv_get_constrained_memory) and sizes V8's heap
// from it (--max-old-space-size-percentage, and the young generation with the old). cgroup v2 (memory.max)
// or v1 (memory.limit_in_bytes), made under the harness's own cgroup; where neither can be made (no
// permission, no memory controller) the contender runs without a limit and the bench says so.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** The command that joins the cgroup, then execs `command` with `args` (the pid stays the same). */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Removes the cgroup once its process has exited. */
  remove(): void;
}

/** Makes a cgroup limited to `limitBytes`, or returns why it cannot. */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | { unavailable: string } {
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  let dir: string;
  let limitFile: string;
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const path = own.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    dir = join('/sys/fs/cgroup', path, name);
    limitFile = 'memory.max';
  } else {
    const path = own
      .map((l) => l.split(':'))
      .find(([, controllers]) => controllers?.split(',').includes('memory'))?.[2];
    if (path === undefined) return { unavailable: 'no memory cgroup controller' };
    dir = join('/sys/fs/cgroup/memory', path, name);
    limitFile = 'memory.limit_in_bytes';
  }
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, limitFile), String(limitBytes));
  } catch (err) {
    return { unavailable: `cannot make ${dir}: ${(err as Error).message}` };
  }
  return {
    wrap: (command, args) => ({
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, command, ...args],
    }),
    remove: () => {
      try {
        rmdirSync(dir);
      } catch {
        // Still busy for a moment after the exit; the next run's name differs.
      }
    },
  };
}

/** A Kubernetes memory quantity (`512Mi`, `1Gi`, `500M`, `1073741824`) in bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match?.[1]) throw new Error(`not a memory quantity: ${quantity}`);
  const scale: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(match[1]) * (match[2] ? (scale[match[2]] ?? 1) : 1));
}
