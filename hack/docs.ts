#!/usr/bin/env node
// `make docs` (npm run docs): writes the generated parts of docs/ from the code, between their markers:
// the flag table of docs/flags.md from src/config/settings.ts. `--check` writes nothing and exits 1 when
// a file differs (src/config/flag-table.test.ts checks the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FLAG_TABLE_BEGIN, FLAG_TABLE_END, flagTable } from '../src/config/index.ts';

export const FLAGS_DOC = join(import.meta.dirname, '..', 'docs', 'flags.md');

/** `text` with the lines between `begin` and `end` replaced by `body`; throws when a marker is missing. */
export function replaceBetween(text: string, begin: string, end: string, body: string): string {
  const from = text.indexOf(`${begin}\n`);
  const to = text.indexOf(`\n${end}`, from);
  if (from < 0 || to < 0) throw new Error(`markers not found: ${begin} ... ${end}`);
  return `${text.slice(0, from + begin.length + 1)}\n${body}\n${text.slice(to)}`;
}

/** docs/flags.md as the code makes it. */
export function renderFlagsDoc(current: string = readFileSync(FLAGS_DOC, 'utf8')): string {
  return replaceBetween(current, FLAG_TABLE_BEGIN, FLAG_TABLE_END, flagTable());
}

if (import.meta.main) {
  const current = readFileSync(FLAGS_DOC, 'utf8');
  const rendered = renderFlagsDoc(current);
  const target = relative(process.cwd(), FLAGS_DOC);
  if (process.argv.includes('--check')) {
    if (current !== rendered) {
      process.stderr.write(`${target} is out of date with src/config/settings.ts: run make docs\n`);
      process.exitCode = 1;
    }
  } else if (current !== rendered) {
    writeFileSync(FLAGS_DOC, rendered);
    process.stdout.write(`wrote ${target}\n`);
  }
}
