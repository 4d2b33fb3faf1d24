// `make cluster` and `make cluster-down` (hack/cluster/cli.ts): the living cluster outlives the
// command that started it, a second `up` finds it, and `down` leaves no process and no state behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPONENTS, type ControlPlaneState } from '../../hack/cluster/control-plane.ts';
import { isAlive } from '../../hack/cluster/process.ts';

const cli = join(import.meta.dirname, '..', '..', 'hack', 'cluster', 'cli.ts');
const parent = mkdtempSync(join(tmpdir(), 'pod-sync-cli-'));
const dir = join(parent, '.cluster');
const run = (command: 'up' | 'down') =>
  promisify(execFile)(process.execPath, [cli, command], {
    env: { ...process.env, POD_SYNC_CLUSTER_DIR: dir },
    timeout: 120_000,
  });

afterAll(async () => {
  await run('down').catch(() => undefined);
  rmSync(parent, { recursive: true, force: true });
});

describe('make cluster / make cluster-down', () => {
  it('up starts the living cluster in the background, up again finds it, down stops every process', async () => {
    const { stdout } = await run('up');
    expect(stdout).toMatch(/cluster ready at https:\/\/127\.0\.0\.1:\d+ in [\d.]+ s/);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ControlPlaneState;
    const pids = COMPONENTS.map((name) => state.pids[name]);
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    for (const log of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
      expect(existsSync(join(dir, `${log}.log`)), log).toBe(true);
    }
    const kc = new KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
    expect((await kc.makeApiClient(CoreV1Api).listNode()).items).toHaveLength(3);

    const again = await run('up');
    expect(again.stdout).toContain('cluster already running');
    const same = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ControlPlaneState;
    expect(same.pids).toEqual(state.pids);

    const down = await run('down');
    expect(down.stdout).toContain('cluster stopped');
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 180_000);
});
