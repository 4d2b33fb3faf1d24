import type { Logger } from 'pino';
import { pino } from 'pino';
import type { SharedInformerFactory } from '../../informers/factory.ts';
import { objectKey, splitKey } from '../../informers/object-key.ts';
import type { SharedInformer } from '../../informers/shared-informer.ts';
import { isTombstone, JOBS, PODS, REPLICASETS, type KubeObject } from '../../informers/types.ts';
import { Controller, type ControllerOptions } from '../controller.ts';
import { podMetrics, type PodMetrics } from './pod-metrics.ts';
import type { Pod } from './pod.ts';
import { podSyncView } from './pod-view.ts';
import { snapshot, transitions, type PodSnapshot, type Transition } from './transitions.ts';
import { ownerUids, resolveWorkload, type OwnerCaches } from './workload.ts';

export const POD_SYNC_CONTROLLER = 'pod-sync';
const OWNER_UID_INDEX = 'owner-uid';

/** The generic controller's knobs (workers, retries, timeouts, clock, logger, registry) plus the scope. */
export interface PodSyncOptions extends Omit<ControllerOptions, 'name' | 'reconcile' | 'caches'> {
  factory: SharedInformerFactory;
  /** Watch one namespace; all when absent. */
  namespace?: string;
  labelSelector?: string;
}

/**
 * Syncs each pod key against the caches only: logs the pod's lifecycle transitions since its last
 * sync, resolves its top-level workload, and remembers what it saw for the next sync.
 */
export class PodSyncController {
  readonly controller: Controller;
  readonly pods: SharedInformer<Pod>;
  readonly #owners: OwnerCaches;
  /** Every cache a sync reads: pods, and the ReplicaSet and Job metadata for workload resolution. */
  readonly #caches: readonly Pick<SharedInformer<KubeObject>, 'resource' | 'hasSynced'>[];
  readonly #log: Logger;
  readonly #metrics: PodMetrics;
  /** Last synced state per key; the only memory the controller keeps outside the caches. */
  readonly #synced = new Map<string, PodSnapshot>();

  constructor(options: PodSyncOptions) {
    const { factory, namespace, labelSelector, ...controllerOptions } = options;
    const scope = namespace ? { namespace } : {};
    this.pods = factory.informerFor<Pod>(PODS, {
      ...scope,
      ...(labelSelector ? { labelSelector } : {}),
      indexers: { [OWNER_UID_INDEX]: ownerUids },
      // Only what a sync reads is cached: the rest of each Pod would be most of the heap.
      transform: podSyncView,
    });
    // Owners matter only for their names and owner references: metadata is all we cache of them.
    const replicaSets = factory.informerFor<KubeObject>(REPLICASETS, { ...scope, metadataOnly: true });
    const jobs = factory.informerFor<KubeObject>(JOBS, { ...scope, metadataOnly: true });
    this.#owners = { replicaSets: replicaSets.store, jobs: jobs.store };
    this.#caches = [this.pods, replicaSets, jobs];
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ controller: POD_SYNC_CONTROLLER });
    this.#metrics = podMetrics(this.pods.store, options.registry);

    this.controller = new Controller({
      name: POD_SYNC_CONTROLLER,
      reconcile: (key) => {
        this.sync(key);
        return Promise.resolve(undefined);
      },
      caches: this.#caches,
      ...controllerOptions,
    });

    const enqueue = (obj: Pod): void => {
      this.controller.enqueue(objectKey(obj));
    };
    this.pods.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, pod) => {
        enqueue(pod);
      },
      onDelete: (obj) => {
        this.controller.enqueue(isTombstone(obj) ? obj.key : objectKey(obj));
      },
    });
    // A pod that waited (or was dropped) for a late owner syncs again when the owner arrives or changes.
    const enqueueOwned = (owner: KubeObject): void => {
      const uid = owner.metadata?.uid;
      if (uid) for (const pod of this.pods.store.byIndex(OWNER_UID_INDEX, uid)) enqueue(pod);
    };
    for (const informer of [replicaSets, jobs]) {
      informer.addEventHandler({
        onAdd: enqueueOwned,
        onUpdate: (_old, owner) => {
          enqueueOwned(owner);
        },
      });
    }
  }

  /**
   * The caches that have not synced yet, e.g. ["replicasets.apps"]; empty once every sync can run. For
   * readiness: a replica whose owner caches cannot fill (RBAC) is not ready, even with its pods listed.
   */
  unsyncedCaches(): string[] {
    return this.#caches
      .filter((cache) => !cache.hasSynced())
      .map(({ resource }) => (resource.group ? `${resource.resource}.${resource.group}` : resource.resource));
  }

  /** Runs the workers until `signal` aborts; the caller starts and stops the informer factory. */
  run(signal: AbortSignal): Promise<void> {
    return this.controller.run(signal);
  }

  /** One sync of one pod key. Throws OwnerNotCachedError while an owner is missing from the cache. */
  sync(key: string): void {
    const pod = this.pods.store.get(key);
    const previous = this.#synced.get(key);
    if (!pod) {
      if (previous) {
        this.#logTransition(key, previous, { type: 'deleted' });
        this.#synced.delete(key);
      } else {
        this.#log.debug({ key }, 'pod does not exist anymore and was never synced');
      }
      return;
    }
    let last = previous;
    const uid = pod.metadata?.uid ?? '';
    if (previous && previous.uid !== uid) {
      this.#metrics.transitions.inc({ type: 'recreated' });
      this.#log.info(
        { key, ...podFields(pod), oldUid: previous.uid, event: 'recreated' },
        'pod was deleted and recreated',
      );
      last = undefined;
    }
    const current = snapshot(pod, resolveWorkload(pod, this.#owners));
    for (const transition of transitions(last, pod, current))
      this.#logTransition(key, current, transition, pod);
    this.#synced.set(key, current);
  }

  #logTransition(
    key: string,
    state: PodSnapshot,
    transition: Transition | { type: 'deleted' },
    pod?: Pod,
  ): void {
    this.#metrics.transitions.inc({ type: transition.type });
    const { type, ...details } = transition;
    const { namespace = '', name } = splitKey(key);
    this.#log.info(
      {
        key,
        namespace,
        name,
        uid: state.uid,
        workloadKind: state.workload.kind,
        workloadName: state.workload.name,
        node: state.node,
        phase: state.phase,
        ready: state.ready,
        event: type,
        ...details,
        ...(pod ? {} : { lastSeenUid: state.uid }),
      },
      MESSAGES[type],
    );
  }
}

const MESSAGES: Record<Transition['type'] | 'deleted', string> = {
  added: 'pod added',
  phase_changed: 'pod phase changed',
  ready: 'pod became ready',
  unready: 'pod became unready',
  container_restarted: 'container restarted',
  deleted: 'pod does not exist anymore',
};

function podFields(pod: Pod): Record<string, string> {
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}
