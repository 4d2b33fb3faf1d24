// A stand-in for the kubelet's prober, in a process of its own so that the test worker's load (it
// creates the pods) does not count as probe latency. Usage: node prober.ts <base-url> <every-ms> <path>...
// Every period it sends one GET per path, whether or not the previous ones have answered, and prints one
// JSON line per answer: { path, at, status, ms } (status 0: no answer within 5 s). SIGTERM stops it
// after the requests in flight have answered.
const [base = '', everyArg = '100', ...paths] = process.argv.slice(2);
const everyMs = Number(everyArg);
const stopped = new AbortController();
process.on('SIGTERM', () => {
  stopped.abort();
});

async function probe(path: string): Promise<void> {
  const at = Date.now();
  const started = performance.now();
  let status = 0;
  try {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    status = res.status;
  } catch {
    // status 0
  }
  process.stdout.write(`${JSON.stringify({ path, at, status, ms: performance.now() - started })}\n`);
}

// Loading fetch and opening the first connection costs this process a few hundred ms once; the
// kubelet does not pay that per probe, so it is not measured.
await Promise.all(paths.map((path) => fetch(`${base}${path}`).then((res) => res.arrayBuffer())));
const pending: Promise<void>[] = [];
process.stdout.write('{"ready":true}\n');
while (!stopped.signal.aborted) {
  for (const path of paths) pending.push(probe(path));
  await new Promise((resolve) => setTimeout(resolve, everyMs));
}
await Promise.all(pending);
