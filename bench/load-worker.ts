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
  podJsonBytes,
  podNames,
  setReadiness,
  type ApiServerAccess,
  type Owner,
  type Timed,
} from './workload.ts';

export type LoadRequest =
  | { id: number; op: 'owners' }
  /** Creates pods [from, to), ready or not. */
  | { id: number; op: 'create'; from: number; to: number; ready: boolean; concurrency: number }
  /** Sets the readiness of pods [0, n): one status update each. */
  | { id: number; op: 'burst'; n: number; ready: boolean; concurrency: number }
  | { id: number; op: 'delete'; n: number; concurrency: number }
  /** Deletes every pod left in the namespace; answers how many there were. */
  | { id: number; op: 'clean'; concurrency: number }
  /** The JSON size of pod 0 as served; answers in `count`. */
  | { id: number; op: 'pod-bytes' }
  | { id: number; op: 'close' };

export type LoadResponse =
  | { id: number; ok: true; timed?: Timed[]; count?: number; owners?: Owner[] }
  | { id: number; ok: false; error: string };

const port = parentPort;
if (!port) throw new Error('load-worker.ts runs as a worker thread');
const client = new LoadClient(workerData as ApiServerAccess);
let owners: Owner[] = [];

const indexes = (n: number, from = 0): number[] => Array.from({ length: n - from }, (_, i) => from + i);

async function handle(req: LoadRequest): Promise<LoadResponse> {
  switch (req.op) {
    case 'owners':
      owners = await ensureOwners(client);
      return { id: req.id, ok: true, owners };
    case 'create':
      await inParallel(indexes(req.to, req.from), req.concurrency, (i) =>
        createPod(client, owners, i, req.ready),
      );
      return { id: req.id, ok: true, count: req.to - req.from };
    case 'burst':
      return {
        id: req.id,
        ok: true,
        timed: await inParallel(indexes(req.n), req.concurrency, (i) =>
          setReadiness(client, owners, i, req.ready),
        ),
      };
    case 'pod-bytes':
      return { id: req.id, ok: true, count: await podJsonBytes(client, owners, 0) };
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
