// The load generator runs in a worker thread, so that the main thread of the harness does nothing but
// timestamp the contender's log lines as they arrive: a busy event loop there would add its own delay
// to every latency. Both threads stamp times with nowMs(), one timeline.
import { parentPort, workerData } from 'node:worker_threads';
import {
  createPod,
  deleteByName,
  deletePod,
  ensureOwners,
  inParallel,
  LoadClient,
  makeUnready,
  podNames,
  type ApiServerAccess,
  type Owner,
  type Timed,
} from './workload.ts';

export type LoadRequest =
  | { id: number; op: 'owners' }
  | { id: number; op: 'create'; n: number; concurrency: number }
  | { id: number; op: 'burst'; n: number; concurrency: number }
  | { id: number; op: 'delete'; n: number; concurrency: number }
  /** Deletes every pod left in the namespace; answers how many there were. */
  | { id: number; op: 'clean'; concurrency: number }
  | { id: number; op: 'close' };

export type LoadResponse =
  | { id: number; ok: true; timed?: Timed[]; count?: number; owners?: Owner[] }
  | { id: number; ok: false; error: string };

const port = parentPort;
if (!port) throw new Error('load-worker.ts runs as a worker thread');
const client = new LoadClient(workerData as ApiServerAccess);
let owners: Owner[] = [];

const indexes = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function handle(req: LoadRequest): Promise<LoadResponse> {
  switch (req.op) {
    case 'owners':
      owners = await ensureOwners(client);
      return { id: req.id, ok: true, owners };
    case 'create':
      await inParallel(indexes(req.n), req.concurrency, (i) => createPod(client, owners, i));
      return { id: req.id, ok: true, count: req.n };
    case 'burst':
      return {
        id: req.id,
        ok: true,
        timed: await inParallel(indexes(req.n), req.concurrency, (i) => makeUnready(client, owners, i)),
      };
    case 'delete':
      return {
        id: req.id,
        ok: true,
        timed: await inParallel(indexes(req.n), req.concurrency, (i) => deletePod(client, owners, i)),
      };
    case 'clean': {
      const names = await podNames(client);
      await inParallel(names, req.concurrency, (name) => deleteByName(client, name));
      return { id: req.id, ok: true, count: names.length };
    }
    case 'close':
      await client.close();
      return { id: req.id, ok: true };
  }
}

port.on('message', (req: LoadRequest) => {
  handle(req).then(
    (res) => {
      port.postMessage(res);
      if (req.op === 'close') port.close();
    },
    (err: unknown) => {
      port.postMessage({
        id: req.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies LoadResponse);
    },
  );
});
