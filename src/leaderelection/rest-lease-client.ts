import { isNotFound, type RequestOptions, type RestClient, type RestWriter } from '../client/index.ts';
import type { Lease, LeaseClient, LeaseSpec } from './lease-client.ts';

/** No retries inside a lease request: the elector's own loop waits out a Retry-After within its deadlines. */
const NO_RETRIES: RequestOptions = { maxRetries: 0 };

/** The verbs the Lease lock uses: client-go's rest client Get, Post and Put. */
export type LeaseRestClient = Pick<RestClient, 'get'> & RestWriter;

/**
 * LeaseClient on our RestClient: GET, POST and PUT of coordination.k8s.io/v1 Leases, with the wire's
 * MicroTime strings as they are. Errors are the client's ApiError (isConflict on 409, isDenied on
 * 401/403) and TransportError; a missing Lease reads as undefined.
 * Source: client-go tools/leaderelection/resourcelock/leaselock.go (Get, Create, Update).
 */
export class RestLeaseClient implements LeaseClient {
  readonly #client: LeaseRestClient;

  constructor(client: LeaseRestClient) {
    this.#client = client;
  }

  async get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return fromWire(
        await this.#client.get<WireLease>(leasePath(namespace, name), undefined, signal, NO_RETRIES),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const { namespace } = lease.metadata;
    return fromWire(
      await this.#client.post<WireLease>(leasePath(namespace), toWire(lease), undefined, signal, NO_RETRIES),
    );
  }

  async update(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const { namespace, name } = lease.metadata;
    return fromWire(
      await this.#client.put<WireLease>(
        leasePath(namespace, name),
        toWire(lease),
        undefined,
        signal,
        NO_RETRIES,
      ),
    );
  }
}

interface WireLease {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  spec?: LeaseSpec;
}

function leasePath(namespace: string, name?: string): string {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

function toWire(lease: Lease): WireLease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: lease.metadata, spec: lease.spec };
}

function fromWire(wire: WireLease): Lease {
  const metadata = wire.metadata ?? {};
  return {
    // Every metadata field, so that an update sends back what it read.
    metadata: {
      ...metadata,
      name: typeof metadata.name === 'string' ? metadata.name : '',
      namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
    },
    spec: { ...(wire.spec ?? {}) },
  };
}
