import { stdSerializers, type SerializedError } from 'pino';

/**
 * The one shape of `err` in the log, on every line that reports a failure: pino's error serializer,
 * `{ type, message, stack, ...the error's own enumerable fields }` (an ApiError adds code, reason and
 * retryAfterSeconds), so that a query on `err.message` or `err.type` works for every component.
 * Two differences: `message` is the error's own, since ours already end with their cause's message
 * (pino would append it again; the stack still shows the causes), and a thrown non-Error is logged as
 * an Error with its String() as the message.
 */
export function serializeError(value: unknown): SerializedError {
  const err = value instanceof Error ? value : new Error(String(value));
  const serialized = stdSerializers.err(err);
  serialized.message = err.message;
  return serialized;
}
