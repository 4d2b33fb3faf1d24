// The few Lease operations the lock needs, in our own plain types, so the elector can be tested against
// an in-memory fake and run against the real API through RestLeaseClient. Errors are the REST client's:
// ApiError (isConflict for 409, isDenied for 401/403) and TransportError.

/** coordination.k8s.io/v1 LeaseSpec with MicroTime fields as their wire strings. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  preferredHolder?: string;
  strategy?: string;
}

export interface LeaseMetadata {
  name: string;
  namespace: string;
  /** Sent back on update: the API server answers 409 when the Lease changed since it was read. */
  resourceVersion?: string;
  labels?: Record<string, string>;
  /** Everything else the server returned, kept so that an update does not drop it. */
  [field: string]: unknown;
}

export interface Lease {
  metadata: LeaseMetadata;
  spec: LeaseSpec;
}

export interface LeaseClient {
  /** The Lease, or undefined when it does not exist (404). */
  get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined>;
  /** Creates the Lease; rejects with an ApiError that isConflict when it already exists. */
  create(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** Replaces the Lease; rejects with an ApiError that isConflict when metadata.resourceVersion is stale. */
  update(lease: Lease, signal: AbortSignal): Promise<Lease>;
}
