// `make image` runs `npm run image`, i.e. hack/image.sh. No engine runs here, so the script is run
// against stand-in docker and podman commands that answer `info` as told and record what they are asked.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './manifests.ts';

const script = join(REPO, 'hack', 'image.sh');
const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** A bin directory with `docker` and `podman` stand-ins; each logs "<name> <args>" and its cwd. */
function engines(working: { docker: boolean; podman: boolean }): { bin: string; log: string } {
  const bin = mkdtempSync(join(tmpdir(), 'fake-engines-'));
  const log = join(bin, 'calls.log');
  for (const name of ['docker', 'podman'] as const) {
    const path = join(bin, name);
    writeFileSync(
      path,
      `#!/bin/sh\necho "${name} $* (in $PWD)" >> ${log}\n[ "$1" = info ] && exit ${working[name] ? 0 : 1}\nexit 0\n`,
    );
    chmodSync(path, 0o755);
  }
  writeFileSync(log, '');
  return { bin, log };
}

function run(bin: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(
      'bash',
      [script],
      { env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, timeout: 30_000 },
      (err, _stdout, stderr) => {
        resolve({ code: err ? Number(err.code) : 0, stderr });
      },
    );
  });
}

describe('hack/image.sh (make image)', () => {
  it('builds with the first engine that answers, tagged with the package version and OCI build args', async () => {
    const { bin, log } = engines({ docker: false, podman: true });
    const { code, stderr } = await run(bin);
    expect(code).toBe(0);
    expect(stderr).toContain(`building pod-sync-operator:${version} with podman`);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(/^docker info/);
    expect(calls[1]).toMatch(/^podman info/);
    expect(calls[2]).toMatch(
      new RegExp(
        `^podman build --build-arg VERSION=${version} --build-arg REVISION=[0-9a-f]{40} --build-arg CREATED=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ --tag pod-sync-operator:${version} \\. \\(in ${REPO}\\)$`,
      ),
    );
  });

  it('takes the tag from $IMAGE', async () => {
    const { bin, log } = engines({ docker: true, podman: true });
    expect((await run(bin, { IMAGE: 'registry.example/pso:dev' })).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('--tag registry.example/pso:dev .');
  });

  it('without a working engine, says what it found and exits 1', async () => {
    const { bin, log } = engines({ docker: false, podman: false });
    const { code, stderr } = await run(bin, { CONTAINER_ENGINE: 'docker podman no-such-engine' });
    expect(code).toBe(1);
    expect(stderr).toContain('no container engine works here, so no image was built');
    expect(stderr).toContain("docker: installed, but 'docker info' fails");
    expect(stderr).toContain('no-such-engine: not installed');
    expect(readFileSync(log, 'utf8')).not.toContain('build');
  });
});
