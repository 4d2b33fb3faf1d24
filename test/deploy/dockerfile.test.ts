// No container engine runs here, so the Dockerfile is held to what can be checked without one: a linter
// (dockerfile-utils, every rule at error, and its formatter), policy checks on the parsed file
// (dockerfile-ast: pinned bases, a non-root user, labels, the build context), and its stages run as
// written (docker-build.ts) into an image directory whose entrypoint must answer.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { Copy, DockerfileParser, Label, type Dockerfile, type Instruction } from 'dockerfile-ast';
import { format, validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorContainer } from './container.ts';
import { buildStages, hostPath, type BuiltStage } from './docker-build.ts';
import { parseDockerIgnore } from './dockerignore.ts';
import { REPO, deployObjects, deploymentOf } from './manifests.ts';

const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const execFileAsync = promisify(execFile);

const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** The stages in order, each with its base image (ARG defaults expanded) and its instructions. */
function stages(dockerfile: Dockerfile): Stage[] {
  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) args.set(property.getName(), property.getValue() ?? '');
  }
  const expand = (s: string) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args.get(a ?? b ?? '') ?? '');
  const out: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = dockerfile
        .getFROMs()
        .find((f) => f.getRange().start.line === instruction.getRange().start.line);
      out.push({
        name: from?.getBuildStage() ?? '',
        image: expand(from?.getImage() ?? ''),
        instructions: [],
      });
    } else {
      out.at(-1)?.instructions.push(instruction);
    }
  }
  return out;
}

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());

describe('the Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(text);
  const all = stages(dockerfile);
  const runtime = all.at(-1) as Stage;

  it('passes the linter with every rule at error, and is formatted as its formatter formats it', () => {
    expect(validate(text, STRICT)).toEqual([]);
    expect(format(text, { insertSpaces: true, tabSize: 4 })).toEqual([]);
    // The linter does find problems: a Dockerfile with several gets as many diagnostics.
    const bad = "from node\nMAINTAINER me\nWORKDIR app\nENTRYPOINT ['x']\nCMD a\nCMD b\n";
    expect(validate(bad, STRICT).length).toBeGreaterThanOrEqual(5);
  });

  it('builds on the Node the tests run on, and runs on the same major', () => {
    const nodeVersion = pkg.devDependencies.node ?? '';
    expect(nodeVersion).toBe(process.versions.node);
    expect(all.length).toBeGreaterThan(1);
    for (const stage of all.slice(0, -1))
      expect(stage.image, stage.name).toBe(`node:${nodeVersion}-bookworm-slim`);
    expect(runtime.image).toMatch(
      new RegExp(`^gcr\\.io/distroless/nodejs${nodeVersion.split('.')[0] ?? ''}-`),
    );
  });

  it('pins every base image to a version or a digest, never latest', () => {
    for (const stage of all) {
      const image = stage.image;
      expect(image, stage.name).not.toMatch(/:latest(@|$)/);
      const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || /:\d+\.\d+\.\d+[^:@/]*$/.test(image);
      expect(pinned, `${stage.name}: ${image}`).toBe(true);
    }
  });

  it('runs as a numeric non-root user, with no shell needed: no RUN in the runtime stage', () => {
    const users = of(runtime, 'USER').map((i) => i.getArgumentsContent());
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0] ?? '').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    expect(users[0]).toMatch(/^\d+:\d+$/);
    expect(of(runtime, 'RUN')).toEqual([]);
    expect(of(runtime, 'ENV').map((i) => i.getArgumentsContent())).toContain('NODE_ENV=production');
  });

  it('carries the OCI labels, with the package version and license', () => {
    const labels = new Map<string, string>();
    for (const label of of(runtime, 'LABEL')) {
      if (!(label instanceof Label)) continue;
      for (const p of label.getProperties()) {
        labels.set(p.getName(), (p.getValue() ?? '').replace(/^"|"$/g, ''));
      }
    }
    expect(Object.fromEntries(labels)).toMatchObject({
      'org.opencontainers.image.title': 'pod-sync-operator',
      'org.opencontainers.image.version': '${VERSION}',
      'org.opencontainers.image.revision': '${REVISION}',
      'org.opencontainers.image.created': '${CREATED}',
      'org.opencontainers.image.licenses': pkg.license,
    });
    expect(labels.get('org.opencontainers.image.description')).toBeTruthy();
    const version = of(runtime, 'ARG').find((a) => a.getArgumentsContent()?.startsWith('VERSION='));
    expect(version?.getArgumentsContent()).toBe(`VERSION=${pkg.version}`);
  });

  it('sends only what it copies as build context (.dockerignore)', () => {
    const ignored = parseDockerIgnore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
    const sources = all
      .flatMap((s) => of(s, 'COPY').filter((i) => i instanceof Copy))
      .filter((c) => !c.getFromFlag())
      .flatMap((c) => args(c).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(join(REPO, source)), source).toBe(true);
      expect(ignored(source.replace(/\/$/, '')), source).toBe(false);
    }
    expect(ignored('src/main.ts')).toBe(false);
    expect(ignored('src/testing/fake-clock.ts')).toBe(true);
    for (const path of [
      'node_modules',
      'node_modules/pino/package.json',
      'dist/main.js',
      '.cluster/kubeconfig',
      '.git/config',
      'test/operator.test.ts',
      'src/informers/reflector.test.ts',
      'deploy/pod-sync-operator.yaml',
      'config/manifests/10-deployment.yaml',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });

  describe('built stage by stage as written', () => {
    let image: BuiltStage;
    beforeAll(async () => {
      const ignored = parseDockerIgnore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
      const stages = await buildStages(text, REPO, ignored);
      image = stages.at(-1) as BuiltStage;
    }, 900_000);

    it('enters through node on the operator, which answers --version from the image', async () => {
      const [program, ...rest] = image.entrypoint ?? [];
      // The image's node, stood in for by this one (the same version, see above).
      expect(program && posix.basename(program)).toBe('node');
      const args = rest.map((a) => (a.startsWith('/') ? hostPath(image, a) : a));
      const { stdout } = await execFileAsync(process.execPath, [...args, '--version'], {
        cwd: hostPath(image, '.'),
      });
      expect(stdout).toBe(`pod-sync-operator ${pkg.version}\n`);
    });

    it('holds the production dependencies and none of the development ones, nor tests or test doubles', () => {
      const modules = hostPath(image, 'node_modules');
      for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(modules, dep)), dep).toBe(true);
      for (const dev of ['typescript', 'vitest', 'eslint'])
        expect(existsSync(join(modules, dev)), dev).toBe(false);
      const files = readdirSync(image.root, { recursive: true, encoding: 'utf8' }).filter(
        (p) => !p.includes('node_modules'),
      );
      expect(files.some((p) => p.endsWith('main.js'))).toBe(true);
      expect(files.filter((p) => /\.test\.|fake|testing/i.test(p))).toEqual([]);
    });
  });

  describe('and the Deployment that runs it', () => {
    let container: ReturnType<typeof operatorContainer>;
    let podSecurity: { runAsUser?: number; runAsGroup?: number } = {};
    beforeAll(async () => {
      const deployment = deploymentOf(await deployObjects());
      container = operatorContainer(deployment);
      podSecurity = deployment.spec?.template.spec?.securityContext ?? {};
    });

    it('agree on the image, the user and the ports', () => {
      expect(container.image).toBe(`pod-sync-operator:${pkg.version}`);
      const [uid, gid] = (of(runtime, 'USER')[0]?.getArgumentsContent() ?? '').split(':').map(Number);
      expect(podSecurity).toMatchObject({ runAsUser: uid, runAsGroup: gid });
      const exposed = of(runtime, 'EXPOSE').flatMap(args).map(Number).sort();
      expect((container.ports ?? []).map((p) => p.containerPort).sort()).toEqual(exposed);
    });
  });
});
