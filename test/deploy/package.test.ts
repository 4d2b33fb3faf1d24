// What the image ships, run as the image runs it, without a container engine: the package as npm packs
// it, installed with production dependencies only into an empty directory (the image's `npm ci
// --omit=dev` + dist/), then run from there under a read-only root as user 65532 with no capabilities,
// in-cluster as the deployed ServiceAccount with the Deployment's flags and environment.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';
import { inClusterAs } from '../helpers/in-cluster.ts';
import { kubectlOk } from '../helpers/kubectl.ts';
import { adminToken, scrapeMetrics } from '../helpers/metrics.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { isJsonLine, outputUntil } from '../helpers/terminal.ts';
import { containerProcess, localArgs } from './container.ts';
import { REPO, SERVICE_ACCOUNT, asList, deployObjects, deploymentOf, relocate } from './manifests.ts';
import { RESTRICTED, RUN_AS, restrictedAvailable } from './restricted-process.ts';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** This Node (24) first on PATH, for npm's scripts and the bin link's `#!/usr/bin/env node`. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
const RECORD_MODULES = join(REPO, 'test', 'process', 'fixtures', 'record-modules.ts');

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, PATH }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

const running: OperatorProcess[] = [];
const temp: string[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
  for (const dir of temp.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package, installed with production dependencies only', () => {
  let packed: { filename: string; files: { path: string }[] };
  let root = '';
  let installed = '';
  beforeAll(async () => {
    await ok('npm', ['run', 'build'], REPO);
    const packDir = mkdtempSync(join(tmpdir(), 'pod-sync-pack-'));
    temp.push(packDir);
    const json = await ok('npm', ['pack', '--json', '--pack-destination', packDir], REPO);
    const [first] = JSON.parse(json) as (typeof packed)[];
    if (!first) throw new Error(`npm pack said: ${json}`);
    packed = first;
    root = mkdtempSync(join(tmpdir(), 'pod-sync-install-'));
    temp.push(root);
    chmodSync(root, 0o755);
    await ok(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', join(packDir, packed.filename)],
      root,
    );
    installed = join(root, 'node_modules', pkg.name);
  }, 360_000);

  it('packs dist/ and package.json only, without tests or test doubles', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/main.js');
    expect(paths).toContain('package.json');
    expect(
      paths.filter((p) => !p.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/.test(p)),
    ).toEqual([]);
    expect(paths.filter((p) => /\.test\.(js|ts)$/.test(p))).toEqual([]);
    // src/testing (FakeClock, FakeRestClient, ...) is left out of the build, and no product module imports it.
    expect(paths.filter((p) => /^dist\/testing\/|fake/i.test(p))).toEqual([]);
  });

  it('installs its dependencies and none of its development ones', async () => {
    for (const dep of Object.keys(pkg.dependencies)) {
      expect(existsSync(join(root, 'node_modules', dep, 'package.json')), dep).toBe(true);
    }
    // Development dependencies that no production dependency needs (the lock file marks those dev).
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev);
    expect(devOnly).toEqual(expect.arrayContaining(['typescript', 'vitest', 'node']));
    for (const dev of devOnly) expect(existsSync(join(root, 'node_modules', dev)), dev).toBe(false);
    // Nothing missing or invalid in the production tree.
    await ok('npm', ['ls', '--omit=dev', '--all'], root);
  });

  it('answers --version from the installed dist/main.js and from its bin link', async () => {
    const direct = await ok(process.execPath, [join(installed, 'dist', 'main.js'), '--version'], root);
    expect(direct).toBe(`${pkg.name} ${pkg.version}\n`);
    const bin = await ok(join(root, 'node_modules', '.bin', pkg.name), ['--version'], root);
    expect(bin).toBe(`${pkg.name} ${pkg.version}\n`);
  });

  it('logs pretty from there on a terminal, and with --log-format=pretty on a pipe', async () => {
    // pino-pretty is a production dependency: a person running the installed package reads its logs.
    expect(existsSync(join(root, 'node_modules', 'pino-pretty', 'package.json'))).toBe(true);
    const main = join(installed, 'dist', 'main.js');
    const args = [main, '--kubeconfig', inject('kubeconfig'), '--namespace', 'default'];
    const local = ['--metrics-bind-address=0', '--health-probe-bind-address=0'];
    const until = /caches synced/;
    for (const [terminal, extra] of [
      [true, []],
      [false, ['--log-format=pretty']],
    ] as const) {
      const { lines } = await outputUntil(process.execPath, [...args, ...local, ...extra], {
        terminal,
        until,
      });
      expect(lines.some(isJsonLine), `terminal: ${terminal}`).toBe(false);
      expect(lines.find((l) => l.includes('starting pod-sync-operator'))).toMatch(/INFO/);
    }
  });

  it('syncs pods from there under a read-only root as user 65532, in-cluster as the deployed ServiceAccount', async (ctx) => {
    const restricted = await restrictedAvailable();
    if (!restricted) {
      // Without mount namespaces the same run still proves the installed package works.
      await ctx.annotate('no mount namespaces here: running without the read-only root and user switch');
    }
    const namespace = await createNamespace('packed');
    const objects = relocate(await deployObjects(), namespace);
    await kubectlOk(['apply', '-f', '-'], { input: asList(objects) });
    const inCluster = await inClusterAs(namespace, SERVICE_ACCOUNT);
    temp.push(inCluster.dir);
    const { args, env } = containerProcess(deploymentOf(objects), { name: `packed-${namespace}`, namespace });
    const main = join(installed, 'dist', 'main.js');
    const op = startOperator(
      localArgs([...args, ...inCluster.args]),
      { ...env, ...inCluster.env },
      {
        command: restricted ? [...RESTRICTED, process.execPath, main] : [process.execPath, main],
      },
    );
    running.push(op);

    const start = await op.waitFor((l) => l.msg === 'starting pod-sync-operator', 60_000);
    expect(start).toMatchObject({ version: pkg.version, kubeconfig: 'in-cluster' });
    if (restricted) {
      const status = readFileSync(`/proc/${String(op.child.pid)}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${RUN_AS}\\s+${RUN_AS}\\s+${RUN_AS}\\s+${RUN_AS}$`, 'm'));
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      const root = readFileSync(`/proc/${String(op.child.pid)}/mountinfo`, 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === '/');
      expect(root?.split(' ')[5]?.split(',')).toContain('ro');
    }
    await op.waitFor((l) => l.msg === 'became the leader: starting workers', 60_000);
    const elsewhere = await createNamespace('packed-pods');
    await adminKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: elsewhere, body: podManifest('synced') });
    await op.waitFor((l) => l.event === 'added' && l.namespace === elsewhere && l.name === 'synced', 30_000);
    const { probes, metrics } = await op.addresses();
    expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    // HTTPS with a self-signed certificate made by the installed package, for a token the API server allows.
    expect(metrics).toMatch(/^https:\/\//);
    expect((await scrapeMetrics(metrics)).status).toBe(401);
    expect((await scrapeMetrics(metrics, { token: adminToken() })).body).toContain(
      'pod_sync_transitions_total{type="added"}',
    );
    expect(op.lines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
    expect(await op.stop('SIGTERM')).toBe(0);
  });

  it('runs from one file: in-cluster, what it resolves in node_modules is only the metrics certificate library', async () => {
    // dist/main.js is src/ with undici, pino and prom-client bundled in (rolldown.config.ts); the
    // production dependencies load only on the paths that need them (client-node for an auth-provider).
    const namespace = await createNamespace('packed-modules');
    const objects = relocate(await deployObjects(), namespace);
    await kubectlOk(['apply', '-f', '-'], { input: asList(objects) });
    const inCluster = await inClusterAs(namespace, SERVICE_ACCOUNT);
    temp.push(inCluster.dir);
    const { args, env } = containerProcess(deploymentOf(objects), {
      name: `modules-${namespace}`,
      namespace,
    });
    const record = join(inCluster.dir, 'resolved.txt');
    writeFileSync(record, '');
    const op = startOperator(
      localArgs([...args, ...inCluster.args]),
      { ...env, ...inCluster.env, RECORD_MODULES_TO: record },
      { command: [process.execPath, '--import', RECORD_MODULES, join(installed, 'dist', 'main.js')] },
    );
    running.push(op);
    await op.waitFor((l) => l.msg === 'became the leader: starting workers', 60_000);
    expect(await op.stop('SIGTERM')).toBe(0);
    const files = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .filter((url) => url.startsWith('file:'));
    const ours = files.filter((url) => url.includes('/node_modules/pod-sync-operator/'));
    expect(new Set(ours)).toEqual(new Set([pathToFileURL(join(installed, 'dist', 'main.js')).href]));
    const packages = new Set(
      files
        .filter((url) => !ours.includes(url) && !url.endsWith('/record-modules.ts'))
        .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? url),
    );
    // --metrics-secure with no certificate given: a self-signed one, made by @peculiar/x509 and its own.
    expect(packages).toContain('@peculiar/x509');
    for (const lazy of ['@kubernetes/client-node', 'yaml', 'pino-pretty', 'undici', 'pino', 'prom-client'])
      expect(packages, lazy).not.toContain(lazy);
  });

  it('cannot write to its root filesystem in that view', async (ctx) => {
    if (!(await restrictedAvailable())) {
      ctx.skip();
      return;
    }
    const [program, ...prefix] = RESTRICTED;
    const write = `require('node:fs').writeFileSync(${JSON.stringify(join(installed, 'x'))}, 'x')`;
    const result = await run(program, [...prefix, process.execPath, '-e', write], root, 30_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/EROFS|EACCES/);
  });
});
