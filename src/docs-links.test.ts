// The documentation is a map: every relative link in README.md, docs/ and the folder READMEs leads to a
// file of the repository, and every #anchor to a heading of that file (GitHub's slugs).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');

function markdownFiles(): string[] {
  const inFolder = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(dir, f));
  return ['README.md', 'bench/README.md', ...inFolder('docs'), ...inFolder('src')];
}

/** GitHub's heading anchor: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

describe('documentation links', () => {
  it.each(markdownFiles())('%s links only to files and headings that exist', (file) => {
    const path = join(REPO, file);
    const text = readFileSync(path, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    const broken: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [pathPart = '', anchor] = target.split('#');
      const linked = pathPart === '' ? path : join(dirname(path), pathPart);
      if (!existsSync(linked)) broken.push(`${target}: no ${relative(REPO, linked)}`);
      else if (anchor && statSync(linked).isFile() && !anchors(linked).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${relative(REPO, linked)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
