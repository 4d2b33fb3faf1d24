// Loaded into every Node contender with --import: on SIGUSR2 it collects garbage (twice: the first
// full GC can leave objects that finalizers free for the second) and writes V8's heap statistics as one
// JSON line on stderr (the HeapProbe of bench/contenders.ts). Nothing else: until the signal it costs
// the contender one signal handler. The gc() function comes from a fresh context after --expose-gc is
// set at run time, so the contender's command line stays as it is deployed. Plain JavaScript: a .ts
// file would load Node's type stripper (about 17 MiB of RSS) into contenders that do not otherwise.
import process from 'node:process';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

process.on('SIGUSR2', () => {
  gc();
  gc();
  const heap = getHeapStatistics();
  const young = getHeapSpaceStatistics()
    .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);
  const memory = process.memoryUsage();
  const probe = {
    usedHeapSize: heap.used_heap_size,
    totalHeapSize: heap.total_heap_size,
    heapSizeLimit: heap.heap_size_limit,
    oldUsed: heap.used_heap_size - young,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    rss: memory.rss,
  };
  process.stderr.write(`${JSON.stringify({ benchHeap: probe })}\n`);
});
