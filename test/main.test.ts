import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it, inject } from 'vitest';
import { pinnedVersion } from '../hack/cluster/binaries.ts';
import { freePort } from '../hack/cluster/ports.ts';
import { renderKubeconfig } from '../hack/cluster/kubeconfig.ts';
import { adminKubeConfig, createNamespace, podManifest } from './helpers/cluster.ts';

const main = join(import.meta.dirname, '..', 'src', 'main.ts');

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [main, ...args], {
      env: { PATH: process.env.PATH, HOME: tmpdir(), ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('src/main.ts', () => {
  it('connects and logs the server version and the pod count', async () => {
    const namespace = await createNamespace('main');
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    for (const name of ['a', 'b']) await core.createNamespacedPod({ namespace, body: podManifest(name) });
    const total = (await core.listPodForAllNamespaces()).items.length;

    const { code, stdout } = await run(['--kubeconfig', inject('kubeconfig')]);

    expect(code).toBe(0);
    const [line] = logLines(stdout);
    expect(line).toMatchObject({ msg: 'connected to the API server', serverVersion: pinnedVersion() });
    expect(line?.pods).toBeGreaterThanOrEqual(2);
    expect(line?.pods).toBeLessThanOrEqual(total + 10);
    expect(stdout).not.toContain(adminKubeConfig().getCurrentUser()?.token ?? 'no-token');
  });

  it('takes the kubeconfig from $KUBECONFIG when no flag is given', async () => {
    const { code, stdout } = await run([], { KUBECONFIG: inject('kubeconfig') });
    expect(code).toBe(0);
    expect(logLines(stdout)[0]).toMatchObject({ kubeconfig: inject('kubeconfig') });
  });

  it('rejects an unknown flag with exit 2 and one line naming it', async () => {
    const { code, stderr, stdout } = await run(['--bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--bogus');
  });

  it('rejects a bad --log-format with exit 2, naming the accepted values', async () => {
    const { code, stderr } = await run(['--log-format', 'xml']);
    expect(code).toBe(2);
    expect(stderr).toContain('json, pretty');
  });

  it('fails with one clear line for a malformed kubeconfig', async () => {
    const path = join(tmpdir(), `bad-kubeconfig-${process.pid}`);
    writeFileSync(path, 'clusters: [this is: not: yaml');
    const { code, stdout } = await run(['--kubeconfig', path]);
    expect(code).toBe(1);
    const lines = logLines(stdout);
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).toContain(path);
  });

  it('fails with one clear line when the server does not answer', async () => {
    const path = join(tmpdir(), `closed-kubeconfig-${process.pid}`);
    const server = `https://127.0.0.1:${await freePort()}`;
    writeFileSync(
      path,
      renderKubeconfig({ name: 'closed', server, caPem: 'unused', token: 'secret-token-value' }),
    );
    const { code, stdout } = await run(['--kubeconfig', path]);
    expect(code).toBe(1);
    const lines = logLines(stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, msg: 'start-up failed' });
    expect(stdout).not.toContain('secret-token-value');
  });
});
