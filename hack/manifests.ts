#!/usr/bin/env node
// `make manifests` (npm run manifests): writes deploy/pod-sync-operator.yaml, the all-in-one file that
// `kubectl apply -f deploy/` installs, from config/ (the one source, which is also the kustomize base):
// the files config/kustomization.yaml lists as resources, in its order, comments kept. `--check` writes
// nothing and exits 1 when the file differs from what config/ makes (test/deploy/manifests.test.ts
// checks the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

export const REPO = join(import.meta.dirname, '..');
export const CONFIG_DIR = join(REPO, 'config');
export const INSTALL_MANIFEST = join(REPO, 'deploy', 'pod-sync-operator.yaml');

const HEADER = `# pod-sync-operator: everything it needs, in apply order. Generated from config/ by \`make manifests\`
# (npm run manifests): edit the files there, not this one. Install: kubectl apply -f deploy/
`;

/** The resources config/kustomization.yaml lists, as paths relative to `configDir`. */
export function kustomizationResources(configDir: string = CONFIG_DIR): string[] {
  const kustomization = parse(readFileSync(join(configDir, 'kustomization.yaml'), 'utf8')) as {
    resources?: unknown;
  };
  const resources = kustomization.resources;
  if (!Array.isArray(resources) || !resources.every((r): r is string => typeof r === 'string')) {
    throw new Error(`${join(configDir, 'kustomization.yaml')}: resources must be a list of file names`);
  }
  return resources;
}

/** deploy/pod-sync-operator.yaml as config/ makes it: one YAML document per resource file. */
export function renderInstallManifest(configDir: string = CONFIG_DIR): string {
  const documents = kustomizationResources(configDir).map((file) =>
    readFileSync(join(configDir, file), 'utf8')
      .replace(/^---\n/, '')
      .trimEnd(),
  );
  return `${HEADER}${documents.join('\n---\n')}\n`;
}

if (import.meta.main) {
  const rendered = renderInstallManifest();
  const target = relative(process.cwd(), INSTALL_MANIFEST);
  if (process.argv.includes('--check')) {
    const current = readFileSync(INSTALL_MANIFEST, 'utf8');
    if (current !== rendered) {
      process.stderr.write(`${target} is out of date with config/: run make manifests\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(INSTALL_MANIFEST, rendered);
    process.stdout.write(`wrote ${target}\n`);
  }
}
