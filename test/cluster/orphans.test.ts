import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../hack/cluster/process.ts';
import { eventually } from '../helpers/cluster.ts';
import { commandLine, processGroupMembers } from '../helpers/processes.ts';
import { tiedToParent } from '../helpers/tied.ts';

const fixture = fileURLToPath(new URL('./fixtures/hold-control-plane.ts', import.meta.url));

interface Held {
  pids: { etcd: number; apiserver: number };
}

describe('no control-plane process outlives the process that started it', () => {
  it.each(['SIGKILL', 'SIGINT'] as const)('when that process gets %s', async (signal) => {
    const holder = spawn(...tiedToParent(process.execPath, [fixture]), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(holder, 'exit');
    try {
      const [line] = (await once(createInterface({ input: holder.stdout }), 'line')) as [string];
      const held = JSON.parse(line) as Held;
      const members = [held.pids.apiserver, held.pids.etcd].flatMap(processGroupMembers);
      const binaries = members.filter((pid) =>
        /\/(kube-apiserver|etcd)$/.test(commandLine(pid).split(' ')[0] ?? ''),
      );
      expect(binaries).toHaveLength(2);

      holder.kill(signal);
      await exited;

      await eventually(async () => Promise.resolve(members.every((pid) => !isAlive(pid))), 20_000);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
