// A Dockerfile's stages run as its instructions say, without a container engine: each stage is a
// directory standing for its root filesystem; COPY copies from the build context (as .dockerignore
// filters it) or from an earlier stage's directory, WORKDIR and ENV apply, and RUN runs in `sh` with
// this Node 24 first on PATH, standing in for the base image's. What the stages do (which commands,
// which paths) is then checked by what comes out, not by reading the lines.
import { execFile } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { Copy, DockerfileParser, JSONInstruction } from 'dockerfile-ast';
import type { DockerIgnore } from './dockerignore.ts';

export interface BuiltStage {
  name: string;
  /** The directory standing for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  /** ENTRYPOINT in exec form, if the stage has one. */
  entrypoint: string[] | undefined;
}

/** `path` of the stage's filesystem (absolute, or relative to its WORKDIR) on this machine. */
export function hostPath(stage: BuiltStage, path: string): string {
  return join(stage.root, posix.resolve(stage.workdir, path));
}

function sh(command: string, cwd: string, env: Record<string, string>): Promise<void> {
  const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd, env: { ...process.env, ...env, PATH }, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err) reject(new Error(`RUN ${command} failed (${err.message}):\n${stderr}`));
        else resolve();
      },
    );
  });
}

/** Copies `from` (a file or a directory's contents) to `to`, leaving out what `skip` names. */
function copy(from: string, to: string, skip: (path: string) => boolean): void {
  const stat = lstatSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) {
      const source = join(from, entry);
      if (!skip(source)) copy(source, join(to, entry), skip);
    }
    return;
  }
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { verbatimSymlinks: stat.isSymbolicLink() });
}

/**
 * Builds every stage of `dockerfile` in order, with `context` as the build context; resolves with the
 * stages, the last one being the image. Rejects when a COPY source is missing or a RUN fails.
 */
export async function buildStages(
  dockerfile: string,
  context: string,
  ignored: DockerIgnore,
): Promise<BuiltStage[]> {
  const parsed = DockerfileParser.parse(dockerfile);
  const args = new Map<string, string>();
  for (const arg of parsed.getInitialARGs()) {
    const property = arg.getProperty();
    if (property) args.set(property.getName(), property.getValue() ?? '');
  }
  const base = mkdtempSync(join(tmpdir(), 'docker-build-'));
  const stages: BuiltStage[] = [];
  let stage: BuiltStage | undefined;
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const from = parsed
        .getFROMs()
        .find((f) => f.getRange().start.line === instruction.getRange().start.line);
      const name = from?.getBuildStage() ?? String(stages.length);
      stage = { name, root: join(base, name), workdir: '/', env: {}, entrypoint: undefined };
      mkdirSync(stage.root, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (!stage) continue; // the initial ARGs, read above
    const current = stage;
    if (keyword === 'WORKDIR') {
      current.workdir = posix.resolve(current.workdir, instruction.getArgumentsContent() ?? '/');
      mkdirSync(hostPath(current, '.'), { recursive: true });
    } else if (keyword === 'ENV') {
      const [key, ...value] = (instruction.getArgumentsContent() ?? '').split('=');
      if (key) current.env[key] = value.join('=');
    } else if (keyword === 'COPY' && instruction instanceof Copy) {
      const fromStage = instruction.getFromFlag()?.getValue();
      const words = instruction
        .getArguments()
        .map((a) => a.getValue())
        .filter((w) => !w.startsWith('--'));
      const destination = words.pop() ?? '.';
      const source = fromStage === undefined ? undefined : stages.find((s) => s.name === fromStage);
      if (fromStage !== undefined && !source) throw new Error(`COPY --from=${fromStage}: no such stage`);
      for (const word of words) {
        const from = source ? hostPath(source, word) : join(context, word);
        const skip = (path: string) => !source && ignored(relative(context, path));
        if (skip(from)) throw new Error(`COPY ${word}: not in the build context (.dockerignore)`);
        const intoDirectory = destination.endsWith('/') || words.length > 1 || statSync(from).isDirectory();
        const to = hostPath(
          current,
          intoDirectory && !statSync(from).isDirectory()
            ? posix.join(destination, posix.basename(word))
            : destination,
        );
        copy(from, to, skip);
      }
    } else if (keyword === 'RUN') {
      await sh(instruction.getArgumentsContent() ?? '', hostPath(current, '.'), {
        ...Object.fromEntries(args),
        ...current.env,
      });
    } else if (keyword === 'ENTRYPOINT' && instruction instanceof JSONInstruction) {
      current.entrypoint = instruction.getJSONStrings().map((s) => s.getJSONValue());
    }
  }
  return stages;
}
