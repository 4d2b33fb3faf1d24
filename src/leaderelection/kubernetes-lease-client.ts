import {
  ApiException,
  CoordinationV1Api,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
} from '@kubernetes/client-node';
import { ApiError } from '../client/errors.ts';
import { parseRetryAfter } from '../client/retry-after.ts';
import {
  AccessDeniedError,
  ConflictError,
  type Lease,
  type LeaseClient,
  type LeaseSpec,
} from './lease-client.ts';

/** LeaseClient on @kubernetes/client-node's CoordinationV1Api; every request is cancelled by its signal. */
export class KubernetesLeaseClient implements LeaseClient {
  readonly #api: CoordinationV1Api;

  constructor(api: CoordinationV1Api) {
    this.#api = api;
  }

  static fromKubeConfig(kubeConfig: KubeConfig): KubernetesLeaseClient {
    return new KubernetesLeaseClient(kubeConfig.makeApiClient(CoordinationV1Api));
  }

  async get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return fromV1(await this.#api.readNamespacedLease({ name, namespace }, withSignal(signal)));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw mapDenied(err);
    }
  }

  async create(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const { namespace } = lease.metadata;
    try {
      return fromV1(
        await this.#api.createNamespacedLease({ namespace, body: toV1(lease) }, withSignal(signal)),
      );
    } catch (err) {
      throw mapConflict(err, `lease ${namespace}/${lease.metadata.name} already exists`);
    }
  }

  async update(lease: Lease, signal: AbortSignal): Promise<Lease> {
    const { name, namespace } = lease.metadata;
    try {
      return fromV1(
        await this.#api.replaceNamespacedLease({ name, namespace, body: toV1(lease) }, withSignal(signal)),
      );
    } catch (err) {
      throw mapConflict(err, `lease ${namespace}/${name} was modified since it was read`);
    }
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? (err as ApiException<unknown>).code : undefined;
}

function mapConflict(err: unknown, message: string): unknown {
  return statusOf(err) === 409 ? new ConflictError(message, { cause: err }) : mapDenied(err);
}

/**
 * 401/403 as AccessDeniedError with the Status message, instead of client-node's dump of body and
 * headers; any other status as our ApiError, which carries the Retry-After the elector honours.
 */
function mapDenied(err: unknown): unknown {
  const code = statusOf(err);
  if (code === undefined) return err;
  if (code !== 401 && code !== 403) {
    const { body, headers } = err as ApiException<unknown>;
    return new ApiError(code, parsedBody(body), parseRetryAfter(headers['retry-after'], Date.now()));
  }
  return new AccessDeniedError(code, statusMessage(err) ?? `HTTP ${code}`, { cause: err });
}

function parsedBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The message of the metav1.Status in an ApiException's body, which client-node leaves as JSON text. */
function statusMessage(err: unknown): string | undefined {
  const raw = (err as ApiException<unknown>).body;
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      return raw.trim() || undefined;
    }
  }
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message ? message : undefined;
}

/** Per-call options that hand the signal to fetch, after the client's own middleware (auth) ran. */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre(context: RequestContext) {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post(context: ResponseContext) {
      return new Observable(Promise.resolve(context));
    },
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * client-node declares MicroTime fields as Date subclasses but hands back the wire strings unparsed,
 * since its serializer does not know the type; accept both.
 */
function microTimeString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return new V1MicroTime(value.getTime()).toISOString();
  return undefined;
}

function fromV1(v1: V1Lease): Lease {
  const metadata = v1.metadata ?? {};
  const spec = v1.spec ?? {};
  const out: LeaseSpec = {};
  if (spec.holderIdentity !== undefined) out.holderIdentity = spec.holderIdentity;
  if (spec.leaseDurationSeconds !== undefined) out.leaseDurationSeconds = spec.leaseDurationSeconds;
  if (spec.leaseTransitions !== undefined) out.leaseTransitions = spec.leaseTransitions;
  const acquireTime = microTimeString(spec.acquireTime);
  if (acquireTime !== undefined) out.acquireTime = acquireTime;
  const renewTime = microTimeString(spec.renewTime);
  if (renewTime !== undefined) out.renewTime = renewTime;
  if (spec.preferredHolder !== undefined) out.preferredHolder = spec.preferredHolder;
  if (spec.strategy !== undefined) out.strategy = spec.strategy;
  return {
    // A plain copy of every metadata field, so that an update sends back what it read.
    metadata: {
      ...(Object.fromEntries(Object.entries(metadata)) as Record<string, unknown>),
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? '',
    },
    spec: out,
  };
}

function toV1(lease: Lease): V1Lease {
  const { acquireTime, renewTime, ...rest } = lease.spec;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: lease.metadata,
    spec: {
      ...rest,
      // V1MicroTime serialises as six fractional digits, the format of our (millisecond) strings.
      ...(acquireTime !== undefined ? { acquireTime: new V1MicroTime(acquireTime) } : {}),
      ...(renewTime !== undefined ? { renewTime: new V1MicroTime(renewTime) } : {}),
    },
  };
}
