import type { Lease, LeaseClient, LeaseSpec } from './lease-client.ts';
import type { LeaderElectionRecord } from './record.ts';

/** What the elector needs from a lock (client-go's resourcelock.Interface, without events). */
export interface LeaderElectionLock {
  /** Who this candidate is; what it writes as holderIdentity. */
  readonly identity: string;
  /** The current record, or undefined when the lock object does not exist. */
  get(signal: AbortSignal): Promise<LeaderElectionRecord | undefined>;
  /** Creates the lock object; rejects with a 409 ApiError (isConflict) when someone created it first. */
  create(record: LeaderElectionRecord, signal: AbortSignal): Promise<void>;
  /** Writes the record over the object last read or written; a 409 ApiError (isConflict) when it changed since. */
  update(record: LeaderElectionRecord, signal: AbortSignal): Promise<void>;
  /** Human-readable name of the lock for logs: namespace/name. */
  describe(): string;
}

export interface LeaseLockOptions {
  client: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  /** Labels set on the Lease when this candidate creates or updates it. */
  labels?: Readonly<Record<string, string>>;
}

/** A LeaderElectionLock on a coordination.k8s.io/v1 Lease. */
export class LeaseLock implements LeaderElectionLock {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly #client: LeaseClient;
  readonly #labels: Readonly<Record<string, string>> | undefined;
  /**
   * The Lease as the server last returned it. Updates are built on it, so they carry its
   * resourceVersion: if anyone wrote the Lease since, the update fails with 409 instead of
   * overwriting a record this candidate has not seen.
   */
  #lease: Lease | undefined;

  constructor(options: LeaseLockOptions) {
    this.#client = options.client;
    this.namespace = options.namespace;
    this.name = options.name;
    this.identity = options.identity;
    this.#labels = options.labels;
  }

  async get(signal: AbortSignal): Promise<LeaderElectionRecord | undefined> {
    const lease = await this.#client.get(this.namespace, this.name, signal);
    if (!lease) return undefined;
    this.#lease = lease;
    return recordFromSpec(lease.spec);
  }

  async create(record: LeaderElectionRecord, signal: AbortSignal): Promise<void> {
    const metadata = { name: this.name, namespace: this.namespace };
    this.#lease = await this.#client.create(
      {
        metadata: this.#labels ? { ...metadata, labels: { ...this.#labels } } : metadata,
        spec: specFromRecord(record),
      },
      signal,
    );
  }

  async update(record: LeaderElectionRecord, signal: AbortSignal): Promise<void> {
    if (!this.#lease) throw new Error(`lease ${this.describe()} not read yet: call get or create first`);
    const metadata = { ...this.#lease.metadata };
    if (this.#labels) metadata.labels = { ...metadata.labels, ...this.#labels };
    this.#lease = await this.#client.update({ metadata, spec: specFromRecord(record) }, signal);
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }
}

/** Absent fields read as client-go reads them: no holder, 0 seconds, 0 transitions. */
export function recordFromSpec(spec: LeaseSpec): LeaderElectionRecord {
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

/** The whole spec is replaced, as client-go does: coordinated-election fields are not carried over. */
export function specFromRecord(record: LeaderElectionRecord): LeaseSpec {
  const spec: LeaseSpec = {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  };
  if (record.acquireTime !== undefined) spec.acquireTime = record.acquireTime;
  if (record.renewTime !== undefined) spec.renewTime = record.renewTime;
  return spec;
}
