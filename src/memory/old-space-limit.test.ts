import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { constrainedLimit, heapFlags, oldSpaceLimit } from './old-space-limit.ts';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

describe('heapFlags', () => {
  it('reads both flags from NODE_OPTIONS and the command line, the command line last', () => {
    expect(heapFlags('--max-old-space-size=320', [])).toEqual({ oldSpaceMiB: 320 });
    expect(heapFlags('--max_old_space_size 256 --enable-source-maps', [])).toEqual({ oldSpaceMiB: 256 });
    expect(heapFlags('--max-old-space-size=320', ['--max-old-space-size=512'])).toEqual({ oldSpaceMiB: 512 });
    expect(heapFlags('--max-old-space-size-percentage=75', [])).toEqual({ oldSpacePercentage: 75 });
    expect(heapFlags(undefined, ['--max_old_space_size_percentage', '50', '--cpu-prof'])).toEqual({
      oldSpacePercentage: 50,
    });
    expect(heapFlags('--max-old-space-size=abc', ['--max-old-space-size=0'])).toEqual({});
    expect(heapFlags(undefined, ['--max-old-space-size-limit=9'])).toEqual({});
  });
});

describe('oldSpaceLimit', () => {
  // Measured on Node 24.21 (V8 13): heap_size_limit = old-generation limit + the young generation's
  // reservation, which V8 sizes from memory, not from the flag.
  it('is the flag when --max-old-space-size is given: 320 MiB, although heap_size_limit says 512', () => {
    expect(
      oldSpaceLimit({
        heapSizeLimit: 512 * MIB,
        flags: { oldSpaceMiB: 320 },
        constrainedMemory: Number.MAX_VALUE,
        totalMemory: 24 * GIB,
      }),
    ).toBe(320 * MIB);
  });

  it('is the percentage of the container limit, or of the machine without one; it overrides a size', () => {
    const flags = { oldSpaceMiB: 320, oldSpacePercentage: 75 };
    // node --max-old-space-size-percentage=75 under a 976.5625 MiB limit: heap_size_limit 780 = 732 + 48.
    expect(
      oldSpaceLimit({
        heapSizeLimit: 780 * MIB,
        flags,
        constrainedMemory: 1_000_000 * 1024,
        totalMemory: 24 * GIB,
      }),
    ).toBe(732 * MIB);
    expect(
      oldSpaceLimit({
        heapSizeLimit: 0,
        flags,
        constrainedMemory: 18446744073709552000,
        totalMemory: 8 * GIB,
      }),
    ).toBe(6 * GIB);
  });

  it('without flags is heap_size_limit less the young generation V8 derives from the old', () => {
    // 976.5625 MiB of memory: 536.5 = 488 + 48.5; a large machine: 4288 = 4096 + 192.
    const small = oldSpaceLimit({
      heapSizeLimit: 536.5 * MIB,
      flags: {},
      constrainedMemory: 0,
      totalMemory: 0,
    });
    expect(Math.abs(small - 488 * MIB)).toBeLessThan(4 * MIB);
    expect(
      oldSpaceLimit({ heapSizeLimit: 4288 * MIB, flags: {}, constrainedMemory: 0, totalMemory: 0 }),
    ).toBe(4096 * MIB);
  });
});

describe('constrainedLimit', () => {
  it('is undefined for the values that mean no limit', () => {
    expect(constrainedLimit(512 * MIB)).toBe(512 * MIB);
    expect(constrainedLimit(0)).toBeUndefined();
    expect(constrainedLimit(18446744073709552000)).toBeUndefined();
    expect(constrainedLimit(9223372036854771712)).toBeUndefined();
  });
});

describe('oldSpaceLimit against V8 itself', () => {
  /** heap_size_limit and process.constrainedMemory() of a Node started with `flags` under RLIMIT_DATA. */
  function v8Limits(flags: string[], dataKiB?: number): { heapSizeLimit: number; constrained: number } {
    const script =
      'const v8 = require("v8"); console.log(JSON.stringify([v8.getHeapStatistics().heap_size_limit, process.constrainedMemory()]))';
    // libuv (>= 1.52.1, Node 24.21) reads RLIMIT_DATA as constrained memory, as it reads a cgroup's
    // memory.max: the one limit a test can set without a cgroup of its own.
    const command = [
      ...(dataKiB === undefined ? [] : [`ulimit -d ${String(dataKiB)} &&`]),
      'exec "$0" "$@"',
    ].join(' ');
    const out = execFileSync('/bin/bash', ['-c', command, process.execPath, ...flags, '-e', script], {
      encoding: 'utf8',
    });
    const [heapSizeLimit, constrained] = JSON.parse(out) as [number, number];
    return { heapSizeLimit, constrained };
  }

  it('leaves only the young generation between it and heap_size_limit', () => {
    for (const [flags, dataKiB] of [
      [['--max-old-space-size-percentage=75'], 1_000_000],
      [['--max-old-space-size=320'], undefined],
      [['--max-old-space-size=96'], 1_000_000],
    ] as const) {
      const v8 = v8Limits([...flags], dataKiB);
      const ours = oldSpaceLimit({
        heapSizeLimit: v8.heapSizeLimit,
        flags: heapFlags(undefined, flags),
        constrainedMemory: v8.constrained,
        totalMemory: totalmem(),
      });
      const young = v8.heapSizeLimit - ours;
      expect(young, flags.join(' ')).toBeGreaterThanOrEqual(0);
      expect(young, flags.join(' ')).toBeLessThanOrEqual(192 * MIB);
    }
  });

  it('with the percentage, follows the memory limit: 75 % of 976.5 MiB is 732 MiB', () => {
    const v8 = v8Limits(['--max-old-space-size-percentage=75'], 1_000_000);
    expect(constrainedLimit(v8.constrained)).toBe(1_000_000 * 1024);
    const ours = oldSpaceLimit({
      heapSizeLimit: v8.heapSizeLimit,
      flags: { oldSpacePercentage: 75 },
      constrainedMemory: v8.constrained,
      totalMemory: totalmem(),
    });
    expect(ours).toBe(732 * MIB);
    // V8 sized the young generation from the 976 MiB too: 48 MiB, not the 192 of a large machine.
    expect(v8.heapSizeLimit - ours).toBe(48 * MIB);
  });
});
