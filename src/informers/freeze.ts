/**
 * Freezes `obj` and everything reachable from it, so a handler that mutates a cached object throws
 * (in strict mode) instead of silently corrupting the cache that every other handler reads. Objects
 * from the API server are trees of plain JSON, so a frozen node's children are already frozen.
 */
export function deepFreeze<T>(obj: T): T {
  if (typeof obj !== 'object' || obj === null || Object.isFrozen(obj)) return obj;
  Object.freeze(obj);
  for (const value of Object.values(obj)) deepFreeze(value);
  return obj;
}
