import { ApiError } from '../client/index.ts';
import type { Lease, LeaseClient } from '../leaderelection/index.ts';

export type LeaseOperation = 'get' | 'create' | 'update';

/** Runs before each request; throw (or reject) to fail it, or return a promise to delay it. */
export type RequestHook = (op: LeaseOperation, lease: Lease | undefined, signal: AbortSignal) => unknown;

/**
 * An in-memory LeaseClient for tests with the API server's concurrency rules: create fails with
 * a 409 ApiError when the Lease exists, update when its resourceVersion is not the stored one. Every
 * object handed in or out is a copy, so callers cannot change stored state behind its back.
 */
export class FakeLeaseClient implements LeaseClient {
  readonly #leases = new Map<string, Lease>();
  #resourceVersion = 0;
  /** Every request in order, with a copy of what was sent (update/create) or found (get). */
  readonly requests: { op: LeaseOperation; lease: Lease | undefined }[] = [];
  hook: RequestHook | undefined;

  /** Writes a Lease directly, as another actor would (kubectl, another process): bumps resourceVersion. */
  put(lease: Lease): Lease {
    const stored = this.#store(lease);
    return copy(stored);
  }

  /** The stored Lease, as a copy. */
  peek(namespace: string, name: string): Lease | undefined {
    const lease = this.#leases.get(`${namespace}/${name}`);
    return lease && copy(lease);
  }

  async get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined> {
    await this.#before('get', undefined, signal);
    const found = this.peek(namespace, name);
    this.requests.push({ op: 'get', lease: found && copy(found) });
    return found;
  }

  async create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    await this.#before('create', lease, signal);
    this.requests.push({ op: 'create', lease: copy(lease) });
    if (this.#leases.has(key(lease))) throw conflict('AlreadyExists', `lease ${key(lease)} already exists`);
    return copy(this.#store(lease));
  }

  async update(lease: Lease, signal: AbortSignal): Promise<Lease> {
    await this.#before('update', lease, signal);
    this.requests.push({ op: 'update', lease: copy(lease) });
    const stored = this.#leases.get(key(lease));
    if (!stored) throw new ApiError(404, status(404, 'NotFound', `lease ${key(lease)} not found`));
    if (lease.metadata.resourceVersion !== stored.metadata.resourceVersion) {
      throw conflict('Conflict', `lease ${key(lease)} was modified since it was read`);
    }
    return copy(this.#store(lease));
  }

  async #before(op: LeaseOperation, lease: Lease | undefined, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.hook) await this.hook(op, lease && copy(lease), signal);
    signal.throwIfAborted();
  }

  #store(lease: Lease): Lease {
    const stored = copy(lease);
    stored.metadata.resourceVersion = String(++this.#resourceVersion);
    this.#leases.set(key(stored), stored);
    return stored;
  }
}

/** The API server's answer to a losing write, as our REST client reports it. */
function conflict(reason: 'AlreadyExists' | 'Conflict', message: string): ApiError {
  return new ApiError(409, status(409, reason, message));
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

function key(lease: Lease): string {
  return `${lease.metadata.namespace}/${lease.metadata.name}`;
}

function copy(lease: Lease): Lease {
  return structuredClone(lease);
}
