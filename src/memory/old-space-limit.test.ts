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
