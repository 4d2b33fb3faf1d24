import {
  ApiError,
  isDenied,
  isGone,
  isTooManyRequests,
  WatchDecodeError,
  type TransportError,
} from '../client/index.ts';

/** Why a list happened: the first one, a 410 on the watch, a malformed event, or another failure. */
export type ListReason = 'initial' | 'expired' | 'malformed' | 'error';

/** How a list is read: one watch stream of the initial state (WatchList), or pages of a LIST. */
export type ListMethod = 'watchlist' | 'paged';

/**
 * What the reflector does next, as kube-rs's watcher State: list (for a reason, by a method), or
 * watch from the last resourceVersion. A watch-list turns into a watch on its own stream once its
 * initial state is complete.
 */
export type Phase =
  | { readonly kind: 'list'; readonly reason: ListReason; readonly method: ListMethod }
  | { readonly kind: 'watch' };

export const WATCH: Phase = Object.freeze({ kind: 'watch' });

/** A watch the server ended, that broke (TransportError) or that went silent: it resumes from its version. */
export interface WatchClosed {
  events: number;
  durationMs: number;
  /** Silent for its timeoutSeconds plus the grace: presumed dead and dropped. */
  idle: boolean;
  /** The connection failed or broke. */
  broken?: TransportError | undefined;
}

/** How an attempt in a phase ended: with an error, or (a watch only) closed. */
export type Ending = { readonly err: unknown } | { readonly closed: WatchClosed };

export interface Transition {
  readonly phase: Phase;
  /** Wait before the next attempt: the backoff's next step, or the error's Retry-After if longer. */
  readonly backoff: boolean;
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  /** A list failed: the informer's list error handlers hear of it (client-go's WatchErrorHandler). */
  readonly listFailed: boolean;
}

export interface PhaseContext {
  /** Lists are watch-lists unless one just failed (then paged once). */
  watchList: boolean;
  /** Events applied since the last list: a 410 before any is not worth an immediate second list. */
  eventsSinceList: number;
  /** A watch closed sooner than this without an event is "very short" (client-go): back off first. */
  shortWatchMs: number;
}

/**
 * The reflector's policy, from the phase an attempt was in and how it ended to the next phase, the
 * wait and the log line: client-go's ListAndWatch and DefaultWatchErrorHandler, with kube-rs's
 * explicit states. Pure. A closed ending follows a watch only: a watch-list stream that closes early
 * ends with a WatchListIncompleteError.
 */
export function nextPhase(from: Phase, ending: Ending, context: PhaseContext): Transition {
  if ('closed' in ending) return afterClose(ending.closed, context.shortWatchMs);
  const err = ending.err;
  if (from.kind === 'list' && from.method === 'watchlist') {
    // A 429 (API Priority and Fairness) says "wait", not "this server cannot stream": client-go's
    // watchList retries it as a watch-list after the backoff; we also wait out Retry-After. A 5xx
    // with a Retry-After (an API server starting up or shutting down) is treated the same.
    if (asksToWait(err)) return step(from, true, 'warn', 'watch-list refused: waiting, then streaming again');
    // client-go's fallback: a server without WatchList, or a stream that broke, gets a paged list now.
    return step(
      { ...from, method: 'paged' },
      false,
      'info',
      'watch-list failed before its initial state was complete: listing by pages',
    );
  }
  if (from.kind === 'list') {
    // Forbidden or unauthorized will not heal by retrying: say so at error, with the server's
    // message naming the verb and resource. The cache stays unsynced, so /readyz stays 503.
    const denied = isDenied(err);
    return {
      ...step(from, true, denied ? 'error' : 'warn', denied ? 'list failed: access denied' : 'list failed'),
      listFailed: true,
    };
  }
  const relist = (reason: ListReason): Phase => ({
    kind: 'list',
    reason,
    method: context.watchList ? 'watchlist' : 'paged',
  });
  if (isGone(err))
    return step(
      relist('expired'),
      context.eventsSinceList === 0,
      'info',
      'resourceVersion expired: relisting',
    );
  if (err instanceof WatchDecodeError)
    return step(relist('malformed'), true, 'error', 'malformed watch event: relisting');
  if (err instanceof ApiError && (err.code === 429 || err.code === 503)) {
    return step(WATCH, true, 'warn', 'watch refused: backing off, then watching from the same version');
  }
  if (isDenied(err)) return step(relist('error'), true, 'error', 'watch failed: access denied: relisting');
  return step(relist('error'), true, 'warn', 'watch failed: relisting');
}

function afterClose(closed: WatchClosed, shortWatchMs: number): Transition {
  if (closed.idle)
    return step(WATCH, false, 'warn', 'watch silent past its timeout, presumed dead: reconnecting');
  if (closed.events === 0 && closed.durationMs < shortWatchMs) {
    return step(WATCH, true, 'warn', 'very short watch: backing off before watching again');
  }
  return step(WATCH, false, 'debug', closed.broken ? 'watch broke, resuming' : 'watch ended, resuming');
}

function step(phase: Phase, backoff: boolean, level: Transition['level'], msg: string): Transition {
  return { phase, backoff, level, msg, listFailed: false };
}

/**
 * The server asked for a pause, as client-go's checkWait reads it (a 429, or a 5xx with a
 * Retry-After): the same request, later.
 */
function asksToWait(err: unknown): boolean {
  if (isTooManyRequests(err)) return true;
  return err instanceof ApiError && err.code >= 500 && err.retryAfterSeconds !== undefined;
}
