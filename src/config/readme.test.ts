import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDuration } from './duration.ts';
import { FLAGS } from './settings.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every flag with its environment variable and default', () => {
    for (const flag of FLAGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`--${flag.flag}\``));
      expect(row, flag.flag).toBeDefined();
      if (flag.env) expect(row).toContain(flag.env);
      const def = flag.kind === 'duration' ? formatDuration(flag.default as number) : String(flag.default);
      if (def !== '') expect(row).toContain(`\`${def}\``);
    }
  });

  it('shows the two commands that work on a fresh machine', () => {
    expect(readme).toContain('make run');
    expect(readme).toContain('make test');
  });
});
