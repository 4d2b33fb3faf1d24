// What /proc tells about a contender: peak RSS, CPU seconds, and its TCP connections to the API server.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** USER_HZ: clock ticks per second in /proc/<pid>/stat; 100 on every Linux architecture that matters. */
const CLOCK_TICKS = 100;

export interface ProcStats {
  /** VmHWM: the peak resident set size so far. */
  peakRssBytes: number;
  rssBytes: number;
  /** User plus system CPU time so far. */
  cpuSeconds: number;
}

export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  };
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) of stat(5); fields[0] is field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { peakRssBytes: kib('VmHWM'), rssBytes: kib('VmRSS'), cpuSeconds: ticks / CLOCK_TICKS };
}

/**
 * The pid's established TCP connections to `port` on loopback, as socket inodes: /proc/<pid>/fd
 * names the sockets the process holds, /proc/<pid>/net/tcp{,6} (the whole network namespace) says
 * where each goes.
 */
export function connectionsTo(pid: number, port: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1]) inodes.add(match[1]);
  }
  const found = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const remote = cols[2];
      const state = cols[3];
      const inode = cols[9];
      if (!remote || !inode || state !== '01') continue; // 01: ESTABLISHED
      if (remote.endsWith(`:${hexPort}`) && inodes.has(inode)) found.add(inode);
    }
  }
  return found;
}

/**
 * The process that does the work behind `pid`: hack/cluster runs etcd and kube-apiserver under a small
 * Node guard (guard.ts) that ties their lives to ours, so the pid it reports is the guard's.
 */
export function workerPid(pid: number): number {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmdline.includes('guard.ts')) return pid;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  const child = Number(children[0]);
  return Number.isInteger(child) && child > 0 ? child : pid;
}
