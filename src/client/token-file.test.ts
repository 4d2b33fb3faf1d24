import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.ts';
import { TokenFile } from './token-file.ts';

function fakeFile(contents: (string | Error)[]): {
  read: (path: string) => Promise<string>;
  reads: () => number;
} {
  let reads = 0;
  return {
    read: () => {
      const next = contents[Math.min(reads++, contents.length - 1)];
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? '');
    },
    reads: () => reads,
  };
}

describe('TokenFile', () => {
  it('reads once a minute and trims the token', async () => {
    const clock = new FakeClock();
    const file = fakeFile(['first\n', 'second\n']);
    const tokens = new TokenFile('/token', clock, { read: file.read });
    expect(await tokens.token()).toBe('first');
    clock.step(59_999);
    expect(await tokens.token()).toBe('first');
    expect(file.reads()).toBe(1);
    clock.step(1);
    expect(await tokens.token()).toBe('second');
    expect(file.reads()).toBe(2);
  });

  it('keeps the last good token when a re-read fails, and throws when none was ever read', async () => {
    const clock = new FakeClock();
    const file = fakeFile(['good', new Error('EACCES'), '']);
    const tokens = new TokenFile('/token', clock, { read: file.read });
    expect(await tokens.token()).toBe('good');
    clock.step(60_000);
    expect(await tokens.token()).toBe('good');
    clock.step(60_000);
    expect(await tokens.token()).toBe('good');
    const missing = new TokenFile('/missing', clock, { read: fakeFile([new Error('ENOENT')]).read });
    await expect(missing.token()).rejects.toThrow('ENOENT');
  });

  it('re-reads at once after invalidate (a 401), and shares one read between concurrent callers', async () => {
    const clock = new FakeClock();
    const file = fakeFile(['old', 'new']);
    const tokens = new TokenFile('/token', clock, { read: file.read });
    expect(await Promise.all([tokens.token(), tokens.token(), tokens.token()])).toEqual([
      'old',
      'old',
      'old',
    ]);
    expect(file.reads()).toBe(1);
    tokens.invalidate();
    expect(await tokens.token()).toBe('new');
  });
});
