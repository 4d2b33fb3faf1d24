import { formatDuration } from './duration.ts';
import { FLAGS, type FlagSpec } from './settings.ts';

/** Where docs/flags.md holds the generated table: the lines strictly between these two markers. */
export const FLAG_TABLE_BEGIN =
  '<!-- flag table: generated from src/config/settings.ts by `npm run docs` -->';
export const FLAG_TABLE_END = '<!-- end of flag table -->';

/** A flag's default as the docs and --help show it: Go duration syntax, a list comma-joined; '' for none. */
export function shownDefault(flag: FlagSpec): string {
  return flag.kind === 'duration' ? formatDuration(flag.default as number) : String(flag.default);
}

/**
 * The flag table of docs/flags.md (flag, environment variable, default, meaning), one row per FLAGS
 * entry in its order, laid out as prettier lays out a Markdown table so that `prettier --check` agrees.
 */
export function flagTable(flags: readonly FlagSpec[] = FLAGS): string {
  const code = (s: string | undefined): string => (s ? `\`${s}\`` : '');
  return markdownTable(
    ['flag', 'environment', 'default', 'meaning'],
    flags.map((f) => [code(`--${f.flag}`), code(f.env), code(shownDefault(f)), f.help]),
  );
}

/** Rows padded to their column's width, as prettier prints a table without alignment; no cell may hold `|`. */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
