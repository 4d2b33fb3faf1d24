// No container engine runs here, so the Dockerfile is held to what can be checked without one: a linter
// (dockerfile-utils, every rule at error, and its formatter), and explicit checks on the parsed file
// (dockerfile-ast) against the repository: pinned bases, stages, user, entrypoint, labels, build context.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Copy,
  DockerfileParser,
  JSONInstruction,
  Label,
  type Dockerfile,
  type Instruction,
} from 'dockerfile-ast';
import { format, validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorContainer } from './container.ts';
import { parseDockerIgnore } from './dockerignore.ts';
import { REPO, deployObjects, deploymentOf } from './manifests.ts';

const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  license: string;
  main: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  engines: { node: string };
  devDependencies: Record<string, string>;
};

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
  const byName = (name: string) => {
    const stage = all.find((s) => s.name === name);
    if (!stage) throw new Error(`no stage ${name}`);
    return stage;
  };

  it('passes the linter with every rule at error, and is formatted as its formatter formats it', () => {
    expect(validate(text, STRICT)).toEqual([]);
    expect(format(text, { insertSpaces: true, tabSize: 4 })).toEqual([]);
    // The linter does find problems: a Dockerfile with several gets as many diagnostics.
    const bad = "from node\nMAINTAINER me\nWORKDIR app\nENTRYPOINT ['x']\nCMD a\nCMD b\n";
    expect(validate(bad, STRICT).length).toBeGreaterThanOrEqual(5);
  });

  it('is multi-stage: a Node 24 build stage (npm ci, tsc), a production-dependencies stage, a distroless runtime', () => {
    expect(all.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const nodeVersion = pkg.devDependencies.node ?? '';
    expect(nodeVersion).toMatch(/^24\./);
    for (const name of ['build', 'deps'])
      expect(byName(name).image).toBe(`node:${nodeVersion}-bookworm-slim`);
    const build = of(byName('build'), 'RUN').map((i) => i.getArgumentsContent());
    expect(build).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    expect(pkg.scripts.build).toMatch(/^tsc -p tsconfig\.build\.json$/);
    expect(of(byName('deps'), 'RUN').map((i) => i.getArgumentsContent())).toEqual([
      'npm ci --omit=dev --ignore-scripts --no-audit --no-fund',
    ]);
    expect(runtime.image).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:nonroot@sha256:[0-9a-f]{64}$/);
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

  it('enters through node on dist/main.js, which the build stage produces and the runtime stage copies', () => {
    const entrypoints = of(runtime, 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const entrypoint = entrypoints[0];
    expect(entrypoint).toBeInstanceOf(JSONInstruction);
    const exec = (entrypoint as JSONInstruction).getJSONStrings().map((a) => a.getJSONValue());
    expect(exec).toEqual(['/nodejs/bin/node', '/app/dist/main.js']);

    // /app/dist comes from the build stage's WORKDIR /src + dist, tsc's outDir for src/.
    const copies = of(runtime, 'COPY').filter((i) => i instanceof Copy);
    const fromBuild = copies.find((c) => c.getFromFlag()?.getValue() === 'build');
    expect(fromBuild && args(fromBuild).filter((a) => !a.startsWith('--'))).toEqual(['/src/dist', './dist']);
    expect(of(byName('build'), 'WORKDIR').map((i) => i.getArgumentsContent())).toEqual(['/src']);
    expect(of(runtime, 'WORKDIR').map((i) => i.getArgumentsContent())).toEqual(['/app']);
    const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(REPO, 'src', 'main.ts'))).toBe(true);
    expect(pkg.main).toBe('dist/main.js');
    expect(pkg.bin['pod-sync-operator']).toBe('dist/main.js');
    // dist/main.js reads ../package.json for its version: the runtime stage puts it at /app/package.json.
    expect(readFileSync(join(REPO, 'src', 'version.ts'), 'utf8')).toContain("new URL('../package.json'");
    const fromContext = copies.filter((c) => !c.getFromFlag()).map(args);
    expect(fromContext).toContainEqual(['package.json', './']);
    // node_modules from the production-dependencies stage.
    const fromDeps = copies.find((c) => c.getFromFlag()?.getValue() === 'deps');
    expect(fromDeps && args(fromDeps).filter((a) => !a.startsWith('--'))).toEqual([
      '/app/node_modules',
      './node_modules',
    ]);
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
