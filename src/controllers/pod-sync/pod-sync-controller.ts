import type { Logger } from 'pino';
import { loggerOr } from '../../logging/index.ts';
import { realClock, type Clock } from '../../clock/index.ts';
import {
  formatGroupKind,
  parseGroupVersion,
  type DynamicRESTMapper,
  type GroupKind,
} from '../../discovery/index.ts';
import {
  type SharedInformerFactory,
  objectKey,
  splitKey,
  type SharedInformer,
  isTombstone,
  PODS,
} from '../../informers/index.ts';
import { Controller, type ControllerOptions } from '../index.ts';
import { MAX_REMEMBERED_CYCLES, OWNER_RESOURCES } from './defaults.ts';
import { OWNER_UID_INDEX, OwnerCaches } from './owner-caches.ts';
import { podMetrics, type PodMetrics } from './pod-metrics.ts';
import type { Pod } from './pod.ts';
import { podSyncView } from './pod-view.ts';
import { snapshot, transitions, type PodSnapshot, type Transition } from './transitions.ts';
import {
  controllerOf,
  OwnerNotCachedError,
  ownerUids,
  resolveWorkload,
  sameWorkload,
  type OwnerReference,
  type UnresolvedOwner,
  type Workload,
} from './workload.ts';

export const POD_SYNC_CONTROLLER = 'pod-sync';

/** The generic controller's knobs (workers, requeues, drain, clock, logger, registry) plus the scope. */
export interface PodSyncOptions extends Omit<ControllerOptions, 'name' | 'reconcile'> {
  factory: SharedInformerFactory;
  /** Maps an owner's kind to its resource; refreshed on a miss. */
  restMapper: Pick<DynamicRESTMapper, 'restMapping'>;
  /** Group-qualified resources whose objects may be watched as owners; OWNER_RESOURCES by default. */
  ownerResources?: readonly string[];
  /** Watch one namespace; all when absent. */
  namespace?: string;
  labelSelector?: string;
}

/**
 * Syncs each pod key against the caches only: logs the pod's lifecycle transitions since its last
 * sync at once, with its top-level workload as far as the owner caches resolve it, and remembers what
 * it saw for the next sync. A sync whose walk stops at an owner missing from the cache reports first,
 * then fails, so that only the resolution is retried (client-go's 5 requeues, then the key is dropped;
 * the pod stays reported with its workload unresolved). While the owner's kind is still being looked
 * up or listed, the sync does not fail: the kind's settling syncs the pod again, as client-go's
 * controllers wait for their caches before they sync. An owner that arrives later, or changes,
 * re-syncs the pods below it.
 */
export class PodSyncController {
  readonly needLeaderElection = true;
  readonly controller: Controller;
  readonly pods: SharedInformer<Pod>;
  readonly owners: OwnerCaches;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: PodMetrics;
  /** Last synced state per key; the only memory the controller keeps outside the caches. */
  readonly #synced = new Map<string, PodSnapshot>();
  /** Cycles already warned about, by their sorted uids. */
  readonly #cycles = new Set<string>();
  /** Readiness is latched: once the pods and the owner kinds met at start are in, it stays. */
  #warm = false;

  constructor(options: PodSyncOptions) {
    const { factory, namespace, labelSelector, restMapper, ownerResources, ...controllerOptions } = options;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger).child({ controller: POD_SYNC_CONTROLLER });
    this.pods = factory.informerFor<Pod>(PODS, {
      ...(namespace ? { namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      indexers: { [OWNER_UID_INDEX]: ownerUids },
      // Only what a sync reads is cached: the rest of each Pod would be most of the heap.
      transform: podSyncView,
    });
    this.owners = new OwnerCaches({
      factory,
      mapper: restMapper,
      ownerResources: ownerResources ?? OWNER_RESOURCES,
      namespace,
      clock: this.#clock,
      logger: this.#log,
      onOwnerChanged: (uid) => {
        this.#enqueueDependents(uid);
      },
      onKindChanged: (gk) => {
        this.#enqueueWaitingFor(gk, () => true);
      },
      // Only the pods that waited for the list: those synced since failed, and their retries run.
      onKindListed: (gk) => {
        this.#enqueueWaitingFor(gk, (owner) => owner.settling);
      },
    });
    this.#metrics = podMetrics(
      this.pods.store,
      () => [...this.#synced.values()].map((s) => s.workload),
      options.registry,
    );

    this.controller = new Controller({
      name: POD_SYNC_CONTROLLER,
      reconcile: (key) => {
        this.sync(key);
        return Promise.resolve(undefined);
      },
      ...controllerOptions,
    });

    const enqueue = (obj: Pod): void => {
      this.controller.enqueue(objectKey(obj));
    };
    // Every replica starts the owner caches a pod's controller needs, so a standby takes over warm.
    const demandOwner = (pod: Pod): void => {
      const ref = controllerOf(pod);
      if (ref) this.owners.demand(ref);
    };
    this.pods.addEventHandler({
      onAdd: (pod) => {
        demandOwner(pod);
        enqueue(pod);
      },
      onUpdate: (_old, pod) => {
        demandOwner(pod);
        enqueue(pod);
      },
      onDelete: (obj) => {
        this.controller.enqueue(isTombstone(obj) ? obj.key : objectKey(obj));
      },
    });
  }

  /**
   * True once the pods are cached and every owner kind met so far is settled (synced, refused, not
   * watched or not served); then true for good. See unsyncedCaches.
   */
  hasSynced(): boolean {
    if (this.#warm) return true;
    if (!this.pods.hasSynced() || !this.owners.settled()) return false;
    this.#warm = true;
    return true;
  }

  /**
   * What readiness still waits for, e.g. ["pods"] or ["replicasets.apps"]; empty once hasSynced().
   * A replica becomes ready once its reports would carry resolved workloads: the pods are listed, and
   * the owner kinds the first pods (and their owners) named are looked up and listed. A kind the API
   * server refuses or does not serve counts as settled, and a kind met later never makes a ready
   * replica unready: reports never wait for owners, so readiness must not either.
   */
  unsyncedCaches(): string[] {
    if (this.hasSynced()) return [];
    return [...(this.pods.hasSynced() ? [] : ['pods']), ...this.owners.unsettled()];
  }

  /** Runs the workers until `signal` aborts (Controller.start); the caller starts and stops the informer factory. */
  async start(signal: AbortSignal): Promise<void> {
    try {
      await this.controller.start(signal);
    } finally {
      // Stops the waits for owner kinds that never list (refused, not served): nothing polls on.
      this.owners.close();
    }
  }

  /**
   * One sync of one pod key: reports what changed since the last sync, then throws
   * OwnerNotCachedError if the walk stopped at an owner missing from its kind's synced cache (not
   * while that kind is still being looked up or listed: its settling syncs the pod again).
   */
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
    const { workload, cycle } = resolveWorkload(pod, this.owners);
    if (cycle) this.#warnCycle(key, cycle);
    const current = snapshot(pod, workload);
    for (const transition of transitions(last, pod, current))
      this.#logTransition(key, current, transition, pod);
    if (last && !sameWorkload(last.workload, workload)) {
      const was = last.workload;
      // "resolved" / "unresolved": the walk now reaches the top, or now stops at a missing owner.
      this.#log.info(
        {
          ...this.#reportFields(key, current),
          event: 'workload_changed',
          previousWorkloadKind: was.kind,
          previousWorkloadName: was.name,
          ...(was.unresolved ? { previousUnresolvedOwnerKind: was.unresolved.kind } : {}),
        },
        was.unresolved && !workload.unresolved
          ? 'pod workload resolved'
          : !was.unresolved && workload.unresolved
            ? 'pod workload unresolved'
            : 'pod workload changed',
      );
    }
    this.#synced.set(key, current);
    const missing = workload.unresolved;
    // A kind still settling syncs the pod again when it has (onKindChanged, onKindListed): no retry
    // is spent on it.
    if (missing && !missing.settling) {
      throw new OwnerNotCachedError(
        `${formatGroupKind({ group: parseGroupVersion(missing.apiVersion).group, kind: missing.kind })} ` +
          `${pod.metadata?.namespace ?? ''}/${missing.name} (uid ${missing.uid}) in the pod's controller chain: ${missing.reason}`,
      );
    }
  }

  /** Enqueues the pods below an owner: its pods, and those of its dependents, any depth down. */
  #enqueueDependents(uid: string): void {
    const seen = new Set([uid]);
    const pending = [uid];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      for (const pod of this.pods.store.byIndex(OWNER_UID_INDEX, next))
        this.controller.enqueue(objectKey(pod));
      for (const owner of this.owners.dependents(next)) {
        const ownerUid = owner.metadata?.uid;
        if (ownerUid && !seen.has(ownerUid)) {
          seen.add(ownerUid);
          pending.push(ownerUid);
        }
      }
    }
  }

  /** Enqueues the pods whose last sync stopped at an owner of that kind, as `which` picks them. */
  #enqueueWaitingFor(gk: GroupKind, which: (owner: UnresolvedOwner) => boolean): void {
    for (const [key, { workload }] of this.#synced) {
      const owner = workload.unresolved;
      if (owner?.kind === gk.kind && parseGroupVersion(owner.apiVersion).group === gk.group && which(owner))
        this.controller.enqueue(key);
    }
  }

  #warnCycle(key: string, cycle: readonly OwnerReference[]): void {
    const id = cycle
      .map((ref) => ref.uid)
      .sort()
      .join(',');
    if (this.#cycles.has(id)) return;
    if (this.#cycles.size >= MAX_REMEMBERED_CYCLES) this.#cycles.clear();
    this.#cycles.add(id);
    this.#log.warn(
      {
        key,
        cycle: cycle.map(
          (ref) =>
            `${formatGroupKind({ group: parseGroupVersion(ref.apiVersion).group, kind: ref.kind })}/${ref.name}`,
        ),
      },
      'owner references form a cycle: the walk stops at the last owner before the repeat',
    );
  }

  #reportFields(key: string, state: PodSnapshot): Record<string, unknown> {
    const { namespace = '', name } = splitKey(key);
    return {
      key,
      namespace,
      name,
      uid: state.uid,
      ...workloadFields(state.workload),
      node: state.node,
      phase: state.phase,
      ready: state.ready,
    };
  }

  #logTransition(
    key: string,
    state: PodSnapshot,
    transition: Transition | { type: 'deleted' },
    pod?: Pod,
  ): void {
    this.#metrics.transitions.inc({ type: transition.type });
    const { type, ...details } = transition;
    this.#log.info(
      {
        ...this.#reportFields(key, state),
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

/** workloadKind and workloadName; with unresolvedOwnerKind, -Name, -Uid when the walk stopped at a missing owner. */
function workloadFields(workload: Workload): Record<string, string> {
  const fields: Record<string, string> = { workloadKind: workload.kind, workloadName: workload.name };
  const owner = workload.unresolved;
  if (owner) {
    fields.unresolvedOwnerKind = owner.kind;
    fields.unresolvedOwnerName = owner.name;
    fields.unresolvedOwnerUid = owner.uid;
  }
  return fields;
}

function podFields(pod: Pod): Record<string, string> {
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
  };
}
