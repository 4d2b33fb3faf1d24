// Contender 3, the TypeScript baseline: what a controller on @kubernetes/client-node looks like without
// pod-sync-operator, i.e. client-go's workqueue example ported as directly as the library allows:
// makeInformer (list, then watch) on the pods of the default namespace, a plain de-duplicating queue,
// one worker that reads the informer's cache and prints the example's lines.
//
//   node bench/baseline/controller.ts --kubeconfig <path>
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';

const NAMESPACE = 'default';

/** A FIFO of keys, each pending at most once; get() waits while it is empty. */
class PlainQueue {
  readonly #items: string[] = [];
  #head = 0;
  readonly #pending = new Set<string>();
  #waiter: ((key: string) => void) | undefined;

  add(key: string): void {
    if (this.#pending.has(key)) return;
    this.#pending.add(key);
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.#pending.delete(key);
      waiter(key);
      return;
    }
    this.#items.push(key);
  }

  get(): Promise<string> {
    if (this.#head < this.#items.length) {
      const key = this.#items[this.#head++] as string;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items.splice(0, this.#head);
        this.#head = 0;
      }
      this.#pending.delete(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' } } });
const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

const informer = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${NAMESPACE}/pods`, () =>
  core.listNamespacedPod({ namespace: NAMESPACE }),
);
const queue = new PlainQueue();
const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
informer.on('add', (pod) => {
  queue.add(keyOf(pod));
});
informer.on('update', (pod) => {
  queue.add(keyOf(pod));
});
informer.on('delete', (pod) => {
  queue.add(keyOf(pod));
});
informer.on('error', (err: unknown) => {
  process.stderr.write(`informer error: ${String(err)}\n`);
  // makeInformer stops on errors other than 410 and timeouts: start it again after a second, as its docs advise.
  setTimeout(() => {
    informer.start().catch((e: unknown) => process.stderr.write(`restart failed: ${String(e)}\n`));
  }, 1_000);
});

function sync(key: string): void {
  const [namespace = '', name = ''] = key.split('/');
  const pod = informer.get(name, namespace);
  if (!pod) process.stdout.write(`Pod ${key} does not exist anymore\n`);
  else process.stdout.write(`Sync/Add/Update for Pod ${pod.metadata?.name ?? ''}\n`);
}

// start() resolves once the list is in the cache and the watch is open: the cache is synced.
await informer.start();
process.stderr.write('caches synced\n');

const stop = (): void => {
  void informer.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
for (;;) sync(await queue.get());
