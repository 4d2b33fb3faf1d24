import { YOUNG_GENERATION_MAX, YOUNG_GENERATION_SHARE } from './defaults.ts';

const MIB = 2 ** 20;

/** The old-generation flags Node was started with; a percentage overrides a size, as in Node. */
export interface HeapFlags {
  oldSpaceMiB?: number;
  oldSpacePercentage?: number;
}

const SIZE = /^--max[-_]old[-_]space[-_]size$/;
const PERCENTAGE = /^--max[-_]old[-_]space[-_]size[-_]percentage$/;

/**
 * --max-old-space-size and --max-old-space-size-percentage from NODE_OPTIONS, then the command line
 * (which Node applies after NODE_OPTIONS): the last value of each wins; `=value` and `value` forms, `-`
 * or `_` in the name, as Node accepts them.
 */
export function heapFlags(nodeOptions: string | undefined, execArgv: readonly string[]): HeapFlags {
  const words = [...(nodeOptions ?? '').split(/\s+/).filter(Boolean), ...execArgv];
  const flags: HeapFlags = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const isSize = SIZE.test(name);
    if (!isSize && !PERCENTAGE.test(name)) continue;
    const value = Number(eq < 0 ? words[++i] : word.slice(eq + 1));
    if (!Number.isFinite(value) || value <= 0) continue;
    if (isSize) flags.oldSpaceMiB = value;
    else flags.oldSpacePercentage = value;
  }
  return flags;
}

/**
 * V8's old-generation limit, in bytes: what the live heap may reach before V8 aborts with "Reached
 * heap limit". heap_size_limit is that plus the young generation's reservation, which V8 sizes from
 * the machine's (or container's) memory, not from --max-old-space-size: with the flag at 320 on a large
 * machine heap_size_limit is 512 MiB. So the flags say the limit where they are given:
 * - a percentage P: P % of the container's memory limit, or of the machine's memory without one
 *   (Node's HandleMaxOldSpaceSizePercentage, which turns it into --max-old-space-size);
 * - a size: that many MiB;
 * - neither: V8 sized both generations from memory; the young one is 3/32 of the old, at most 192 MiB.
 */
export function oldSpaceLimit(options: {
  heapSizeLimit: number;
  flags: HeapFlags;
  /** process.constrainedMemory(): the cgroup limit; 0 or a huge value when there is none. */
  constrainedMemory: number;
  totalMemory: number;
}): number {
  const { heapSizeLimit, flags } = options;
  if (flags.oldSpacePercentage !== undefined) {
    const memory = constrainedLimit(options.constrainedMemory) ?? options.totalMemory;
    return Math.floor((memory / MIB) * (flags.oldSpacePercentage / 100)) * MIB;
  }
  if (flags.oldSpaceMiB !== undefined) return flags.oldSpaceMiB * MIB;
  const young = Math.min(
    YOUNG_GENERATION_MAX,
    heapSizeLimit * (YOUNG_GENERATION_SHARE / (1 + YOUNG_GENERATION_SHARE)),
  );
  return heapSizeLimit - young;
}

/**
 * The container's memory limit from process.constrainedMemory() (libuv reads the cgroup v1 or v2
 * limit), or undefined when unlimited: libuv answers UINT64_MAX, cgroup v1 a value near 2^63, older
 * Node 0.
 */
export function constrainedLimit(constrainedMemory: number): number | undefined {
  return constrainedMemory > 0 && constrainedMemory < 2 ** 62 ? constrainedMemory : undefined;
}
