import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMPONENTS, type ControlPlaneState } from '../../hack/cluster/control-plane.ts';
import { isAlive } from '../../hack/cluster/process.ts';
import { commandLine, processGroupMembers } from '../helpers/processes.ts';
import { tiedToParent } from '../helpers/tied.ts';
import { eventually } from '../../src/testing/index.ts';

const fixture = fileURLToPath(new URL('./fixtures/hold-control-plane.ts', import.meta.url));

const BINARIES = /\/(etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok)$/;

describe('no process of the living cluster outlives the process that started it', () => {
  it.each(['SIGKILL', 'SIGINT'] as const)('when that process gets %s', async (signal) => {
    const holder = spawn(...tiedToParent(process.execPath, [fixture, 'living']), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(holder, 'exit');
    try {
      const [line] = (await once(createInterface({ input: holder.stdout }), 'line')) as [string];
      const held = JSON.parse(line) as ControlPlaneState;
      const members = COMPONENTS.map((name) => held.pids[name]).flatMap(processGroupMembers);
      const binaries = members.filter((pid) => BINARIES.test(commandLine(pid).split(' ')[0] ?? ''));
      expect(binaries).toHaveLength(5);

      holder.kill(signal);
      await exited;

      await eventually(async () => Promise.resolve(members.every((pid) => !isAlive(pid))), 20_000);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
