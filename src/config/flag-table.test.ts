import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FLAG_TABLE_BEGIN, FLAG_TABLE_END, flagTable, shownDefault } from './flag-table.ts';
import { FLAGS } from './settings.ts';

const FLAGS_DOC = new URL('../../docs/flags.md', import.meta.url);

/** The lines of `text` strictly between the two markers, trimmed of the blank lines around the table. */
function between(text: string, begin: string, end: string): string | undefined {
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  return from < 0 || to < 0 ? undefined : text.slice(from + begin.length, to).trim();
}

describe('flag table', () => {
  it('renders one row per flag with its environment variable and default', () => {
    const rows = flagTable().split('\n').slice(2);
    expect(rows).toHaveLength(FLAGS.length);
    FLAGS.forEach((flag, i) => {
      const cells = (rows[i] ?? '').split('|').map((c) => c.trim());
      expect(cells.slice(1, 5)).toEqual([
        `\`--${flag.flag}\``,
        flag.env ? `\`${flag.env}\`` : '',
        shownDefault(flag) === '' ? '' : `\`${shownDefault(flag)}\``,
        flag.help,
      ]);
    });
    expect(rows.find((r) => r.startsWith('| `--retry-max-delay`'))).toContain('`16m40s`');
    expect(rows.find((r) => r.startsWith('| `--owner-resources`'))).toContain(
      '`replicasets.apps,deployments.apps,',
    );
  });

  it('in docs/flags.md is the one src/config/settings.ts makes (npm run docs rewrites it)', () => {
    const documented = between(readFileSync(FLAGS_DOC, 'utf8'), FLAG_TABLE_BEGIN, FLAG_TABLE_END);
    expect(documented, 'docs/flags.md: flag table markers').toBeDefined();
    expect(documented).toBe(flagTable());
  });
});
