import { MAX_TIMER_DELAY_MS } from '../clock/index.ts';

/** The API server's error body (metav1.Status), also the object of a watch ERROR event. */
export interface Status {
  apiVersion?: string;
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { retryAfterSeconds?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** The API server's reason for a status code it sent without a Status body (as client-go guesses it). */
const REASON_FOR_CODE: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The API server answered with an error status, as an HTTP response or as a watch ERROR event. */
export class ApiError extends Error {
  override name = 'ApiError';
  /** The HTTP status code (for an ERROR event, the Status's code). */
  readonly code: number;
  /** The Status reason (Expired, NotFound, ...), or the usual reason for the code when the body had none. */
  readonly reason: string | undefined;
  /** The parsed body, or its text when it was not JSON; not logged: its message is in `message`. */
  declare readonly body: unknown;
  /** From the Retry-After header or the Status details, when the server asked for a pause. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, body: unknown, retryAfterSeconds?: number) {
    const status = isStatus(body) ? body : undefined;
    const message = status?.message ?? (typeof body === 'string' && body ? body.slice(0, 500) : undefined);
    super(`HTTP ${code}${message ? `: ${message}` : ''}`);
    this.code = code;
    this.reason = status?.reason || REASON_FOR_CODE[code];
    // Not enumerable, so pino's error serializer leaves it out: a proxy's HTML page would fill the line.
    Object.defineProperty(this, 'body', { value: body, enumerable: false });
    this.retryAfterSeconds = retryAfterSeconds ?? status?.details?.retryAfterSeconds;
  }

  /** An in-stream ERROR event: its Status carries the code (410 when the resourceVersion expired). */
  static fromStatus(status: Status): ApiError {
    return new ApiError(typeof status.code === 'number' ? status.code : 500, status);
  }
}

/** No HTTP response arrived, or the response stream broke: connection refused, reset, TLS failure... */
export class TransportError extends Error {
  override name = 'TransportError';
}

/** A watch line that is not a JSON watch event. The stream cannot be trusted past it. */
export class WatchDecodeError extends Error {
  override name = 'WatchDecodeError';
  /** The start of the offending line. */
  readonly line: string;

  constructor(message: string, line: string, options?: ErrorOptions) {
    super(message, options);
    this.line = line;
  }
}

/** A successful response whose body is not the JSON we asked for. */
export class ResponseDecodeError extends Error {
  override name = 'ResponseDecodeError';
}

export function isStatus(x: unknown): x is Status {
  return typeof x === 'object' && x !== null && (x as Status).kind === 'Status';
}

/** 410: the resourceVersion or continue token is older than what etcd (or the watch cache) keeps. */
export function isGone(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === 410;
}

/**
 * 401 or 403: the API server refused this identity. Retrying alone will not help; new credentials or an
 * RBAC grant will, so callers log it at error with the server's message, which names the verb and resource.
 */
export function isDenied(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.code === 401 || err.code === 403);
}

export function isTooManyRequests(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === 429;
}

/**
 * The pause, in ms, that the server asked for with `err` or one of its causes: an ApiError's
 * Retry-After (header or Status details). undefined when none did. Every retry waits at least this.
 */
export function retryAfterMs(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ApiError && e.retryAfterSeconds !== undefined) {
      return Math.min(Math.max(0, e.retryAfterSeconds) * 1000, MAX_TIMER_DELAY_MS);
    }
  }
  return undefined;
}

/** 404: the object (or the resource) does not exist. */
export function isNotFound(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === 404;
}

/**
 * 409: another writer won. An update whose resourceVersion is stale (reason Conflict), or a create of a
 * name that exists (reason AlreadyExists): both mean "read again, then decide".
 */
export function isConflict(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === 409;
}

/** 409 with reason AlreadyExists: a create found the name taken. */
export function isAlreadyExists(err: unknown): err is ApiError {
  return isConflict(err) && err.reason === 'AlreadyExists';
}
