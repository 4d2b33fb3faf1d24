import type { Logger } from 'pino';
import { loggerOr } from '../../logging/index.ts';
import { ApiError, isDenied } from '../../client/index.ts';
import { realClock, type Clock, type TimerHandle } from '../../clock/index.ts';
import {
  formatGroupKind,
  NoKindMatchError,
  parseGroupVersion,
  type DynamicRESTMapper,
  type GroupKind,
  type RESTMapping,
} from '../../discovery/index.ts';
import {
  type SharedInformerFactory,
  type SharedInformer,
  isTombstone,
  waitForCacheSync,
  type KubeObject,
} from '../../informers/index.ts';
import { KIND_RETRY_INITIAL_MS, KIND_RETRY_MAX_MS } from './defaults.ts';
import { formatGroupResource, parseGroupResource } from './owner-resources.ts';
import { ownerView } from './owner-view.ts';
import {
  controllerOf,
  controllerUid,
  type OwnerLookup,
  type OwnerLookups,
  type OwnerReference,
} from './workload.ts';

export const OWNER_UID_INDEX = 'owner-uid';
const OWNER_VERBS = ['get', 'list', 'watch'] as const;

export interface OwnerCachesOptions {
  factory: SharedInformerFactory;
  mapper: Pick<DynamicRESTMapper, 'restMapping'>;
  /** Group-qualified resources that may be watched ("replicasets.apps"); anything else is a top. */
  ownerResources: readonly string[];
  /** Watch namespaced owners in this namespace only; all when absent. */
  namespace?: string | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  /** An owner object appeared, changed its uid or controller, or went away: the objects below it may resolve differently. */
  onOwnerChanged: (uid: string) => void;
  /** What lookups of a kind answer may have changed (mapped, found not served, refused). */
  onKindChanged: (gk: GroupKind) => void;
  /** A kind's cache has listed: the walks that stopped at it while it listed may go on now. */
  onKindListed: (gk: GroupKind) => void;
}

/** What is known of one owner kind; a kind is looked up in discovery once, then watched or not. */
type KindState =
  | { phase: 'mapping' }
  /** Outside --owner-resources: the top of any chain, never watched. */
  | { phase: 'outside' }
  /** Discovery does not serve it (or failed): looked up again at retryAt. */
  | { phase: 'not-served' | 'failed'; retryAt: number; delayMs: number; reason: string }
  | { phase: 'watching'; mapping: RESTMapping; informer: SharedInformer<KubeObject>; listError?: unknown };

/**
 * The caches of the owners of pods, of any kind: a metadata-only informer per owner kind, started
 * through the shared factory the first time an object names that kind as its controller (a pod, or an
 * owner further up), and shared by every chain through it. A kind is mapped to its resource by the
 * RESTMapper; only the resources of --owner-resources are watched. A kind outside them, or one the
 * API server refuses to list, is a top with no lookup, with one warning naming the flag and the RBAC
 * rule it would need. Owners cache only what a walk reads (ownerView).
 */
export class OwnerCaches implements OwnerLookups {
  readonly #factory: SharedInformerFactory;
  readonly #mapper: OwnerCachesOptions['mapper'];
  readonly #allowed: ReadonlySet<string>;
  readonly #allowedGroups: ReadonlySet<string>;
  readonly #namespace: string | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onOwnerChanged: (uid: string) => void;
  readonly #onKindChanged: (gk: GroupKind) => void;
  readonly #onKindListed: (gk: GroupKind) => void;
  /** By group-qualified kind ("ReplicaSet.apps"). */
  readonly #kinds = new Map<string, KindState>();
  readonly #warned = new Set<string>();
  readonly #timers = new Set<TimerHandle>();
  #closed = false;
  readonly #stopped = new AbortController();

  constructor(options: OwnerCachesOptions) {
    this.#factory = options.factory;
    this.#mapper = options.mapper;
    this.#allowed = new Set(options.ownerResources);
    this.#allowedGroups = new Set(options.ownerResources.map((r) => parseGroupResource(r).group));
    this.#namespace = options.namespace || undefined;
    this.#clock = options.clock ?? realClock;
    this.#log = loggerOr(options.logger);
    this.#onOwnerChanged = options.onOwnerChanged;
    this.#onKindChanged = options.onKindChanged;
    this.#onKindListed = options.onKindListed;
  }

  /**
   * Makes sure the kind of `ref` is looked up and, if allowed, watched; returns at once (discovery
   * and the informer's list run in the background). Called for every controller reference met, so
   * that a chain's caches fill before a sync reads them.
   */
  demand(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>): void {
    this.#state(ref);
  }

  lookup(ref: OwnerReference, namespace: string): OwnerLookup {
    const state = this.#state(ref);
    switch (state.phase) {
      case 'outside':
        return { state: 'unwatched' };
      case 'mapping':
        return { state: 'missing', reason: 'its kind is being looked up in discovery', settling: true };
      case 'not-served':
      case 'failed':
        return { state: 'missing', reason: state.reason, settling: false };
      case 'watching':
        break;
    }
    const { informer, mapping } = state;
    if (!informer.hasSynced()) {
      if (isDenied(state.listError)) return { state: 'unwatched' };
      return {
        state: 'missing',
        reason: `the ${formatGroupResource(mapping)} cache has not synced yet`,
        settling: !givesUp(state.listError),
      };
    }
    if (mapping.namespaced && !namespace) {
      return {
        state: 'missing',
        reason: 'a namespaced owner of a cluster-scoped object cannot exist',
        settling: false,
      };
    }
    const owner = informer.store.get(mapping.namespaced ? `${namespace}/${ref.name}` : ref.name);
    if (!owner) return { state: 'missing', reason: 'not in the cache', settling: false };
    if (owner.metadata?.uid !== ref.uid) {
      return {
        state: 'missing',
        reason: `the cached object of that name has uid ${owner.metadata?.uid ?? ''}`,
        settling: false,
      };
    }
    return { state: 'cached', owner };
  }

  #state(ref: Pick<OwnerReference, 'apiVersion' | 'kind'>): KindState {
    const { group, version } = parseGroupVersion(ref.apiVersion);
    const gk = { group, kind: ref.kind };
    const key = formatGroupKind(gk);
    let state = this.#kinds.get(key);
    if (!state) {
      if (!this.#allowedGroups.has(group)) {
        // No resource of that group may be watched: a top without asking discovery.
        state = { phase: 'outside' };
        this.#kinds.set(key, state);
        void this.#warnOutside(gk, version);
        return state;
      }
      state = this.#map(gk, version);
    } else if (
      (state.phase === 'not-served' || state.phase === 'failed') &&
      this.#clock.now() >= state.retryAt
    ) {
      state = this.#map(gk, version, state.delayMs);
    }
    return state;
  }

  /** The cached owners whose controller has this uid, in every owner cache: one step down a chain. */
  dependents(uid: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const state of this.#kinds.values()) {
      if (state.phase === 'watching') out.push(...state.informer.store.byIndex(OWNER_UID_INDEX, uid));
    }
    return out;
  }

  /**
   * True once every kind met so far is settled: mapped, and its cache synced, or refused, or not
   * watched at all. A refused or unserved kind counts as settled, so it can never hold readiness.
   */
  settled(): boolean {
    return this.unsettled().length === 0;
  }

  /** The kinds not settled yet, for /readyz: "replicasets.apps", or "Widget.example.com (discovery)". */
  unsettled(): string[] {
    const out: string[] = [];
    for (const [kind, state] of this.#kinds) {
      if (state.phase === 'mapping' || state.phase === 'failed') out.push(`${kind} (discovery)`);
      else if (state.phase === 'watching' && !state.informer.hasSynced() && !givesUp(state.listError))
        out.push(formatGroupResource(state.mapping));
    }
    return out;
  }

  /** Cancels the timers of kinds waiting to be looked up again. */
  close(): void {
    this.#closed = true;
    this.#stopped.abort();
    for (const timer of this.#timers) this.#clock.clearTimeout(timer);
    this.#timers.clear();
  }

  #map(gk: GroupKind, version: string, previousDelayMs = 0): KindState {
    const key = formatGroupKind(gk);
    const state: KindState = { phase: 'mapping' };
    this.#kinds.set(key, state);
    this.#mapper.restMapping(gk, version).then(
      (mapping) => {
        if (this.#kinds.get(key) !== state) return;
        const resource = formatGroupResource(mapping);
        if (!this.#allowed.has(resource)) {
          this.#kinds.set(key, { phase: 'outside' });
          this.#warnNotFollowed(gk, mapping.resource, 'outside');
        } else {
          this.#watch(key, mapping);
        }
        this.#onKindChanged(gk);
      },
      (err: unknown) => {
        if (this.#kinds.get(key) !== state) return;
        const delayMs = Math.min(Math.max(previousDelayMs * 2, KIND_RETRY_INITIAL_MS), KIND_RETRY_MAX_MS);
        const notServed = err instanceof NoKindMatchError;
        const reason = notServed
          ? 'its kind is not served by the API server'
          : `discovery failed: ${String(err)}`;
        this.#kinds.set(key, {
          phase: notServed ? 'not-served' : 'failed',
          retryAt: this.#clock.now() + delayMs,
          delayMs,
          reason,
        });
        if (notServed) {
          if (!this.#warned.has(`not-served ${key}`)) {
            this.#warned.add(`not-served ${key}`);
            this.#log.info(
              { ownerKind: gk.kind, ownerGroup: gk.group },
              'owner kind not served by the API server',
            );
          }
        } else {
          this.#log.warn(
            { ownerKind: gk.kind, ownerGroup: gk.group, err, retryInMs: delayMs },
            'discovery failed',
          );
        }
        this.#retryLater(gk, version, delayMs);
        this.#onKindChanged(gk);
      },
    );
    return state;
  }

  /** Looks a kind up again after `delayMs`, so a CRD created later is found without a pod event. */
  #retryLater(gk: GroupKind, version: string, delayMs: number): void {
    if (this.#closed) return;
    const timer = this.#clock.setTimeout(
      () => {
        this.#timers.delete(timer);
        const state = this.#kinds.get(formatGroupKind(gk));
        if (state?.phase === 'not-served' || state?.phase === 'failed') this.#map(gk, version, state.delayMs);
      },
      delayMs,
      { unref: true },
    );
    this.#timers.add(timer);
  }

  #watch(key: string, mapping: RESTMapping): void {
    const informer = this.#factory.informerFor<KubeObject>(mapping, {
      namespace: this.#namespace,
      metadataOnly: true,
      transform: ownerView,
      indexers: { [OWNER_UID_INDEX]: controllerUid },
    });
    const state: KindState = { phase: 'watching', mapping, informer };
    this.#kinds.set(key, state);
    const gk = { group: mapping.group, kind: mapping.kind };
    informer.addListErrorHandler((err) => {
      const unsynced = !informer.hasSynced();
      const refusedNow = unsynced && isDenied(err) && !isDenied(state.listError);
      const givesUpNow = unsynced && givesUp(err) && !givesUp(state.listError);
      state.listError = err;
      if (refusedNow) this.#warnNotFollowed(gk, mapping.resource, 'refused');
      // The pods waiting for this kind stop waiting: the top with no lookup, or a failing sync.
      if (givesUpNow) this.#onKindChanged(gk);
    });
    informer.addEventHandler({
      onAdd: (owner) => {
        this.#demandControllerOf(owner);
        this.#ownerChanged(owner);
      },
      onUpdate: (old, owner) => {
        const [before, after] = [controllerOf(old), controllerOf(owner)];
        if (old.metadata?.uid === owner.metadata?.uid && before?.uid === after?.uid) return;
        this.#demandControllerOf(owner);
        this.#ownerChanged(old);
        this.#ownerChanged(owner);
      },
      onDelete: (obj) => {
        this.#ownerChanged(isTombstone(obj) ? obj.obj : obj);
      },
    });
    this.#factory.startNewInformers();
    this.#whenSynced(gk, informer);
  }

  /** Calls onKindListed once the kind's cache has listed (the one cache-sync wait, waitForCacheSync). */
  #whenSynced(gk: GroupKind, informer: SharedInformer<KubeObject>): void {
    void waitForCacheSync([informer], {
      clock: this.#clock,
      timeoutMs: Infinity,
      signal: this.#stopped.signal,
    }).then((synced) => {
      if (synced && !this.#closed) this.#onKindListed(gk);
    });
  }

  #demandControllerOf(obj: KubeObject): void {
    const ref = controllerOf(obj);
    if (ref) this.demand(ref);
  }

  #ownerChanged(obj: KubeObject): void {
    const uid = obj.metadata?.uid;
    if (uid) this.#onOwnerChanged(uid);
  }

  /** Names the resource in the warning: a kind outside every allowed group is mapped for that alone. */
  async #warnOutside(gk: GroupKind, version: string): Promise<void> {
    let resource: string;
    try {
      resource = (await this.#mapper.restMapping(gk, version)).resource;
    } catch {
      // Not served (or discovery failed): the plural as kubectl would guess it.
      resource = `${gk.kind.toLowerCase()}s`;
    }
    this.#warnNotFollowed(gk, resource, 'outside');
  }

  /** One warning per kind, never per pod. */
  #warnNotFollowed(gk: GroupKind, resource: string, why: 'outside' | 'refused'): void {
    const key = formatGroupKind(gk);
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    const groupResource = formatGroupResource({ group: gk.group, resource });
    const rbac = { apiGroups: [gk.group], resources: [resource], verbs: [...OWNER_VERBS] };
    const grant = `grant ${OWNER_VERBS.join(', ')} on resource "${resource}" in API group "${gk.group}" in the operator's ClusterRole`;
    const fix =
      why === 'outside'
        ? `to follow it, add ${groupResource} to --owner-resources and ${grant}`
        : `${groupResource} is in --owner-resources, but listing it was refused: ${grant}`;
    this.#log.warn(
      { ownerKind: gk.kind, ownerGroup: gk.group, resource: groupResource, reason: why, fix, rbac },
      `owner kind ${key} is not followed: pods it controls report it as their workload, with no lookup`,
    );
  }
}

/** A list error a retry will not fix soon: refused (401, 403) or not served (404). */
function givesUp(err: unknown): boolean {
  return isDenied(err) || (err instanceof ApiError && err.code === 404);
}
