import { describe, expect, it } from 'vitest';
import { ApiError, TransportError, WatchDecodeError } from '../client/index.ts';
import { nextPhase, WATCH, type Ending, type Phase, type Transition } from './reflector-phase.ts';
import { WatchListIncompleteError } from './watch-list.ts';

type Reason = 'initial' | 'expired' | 'malformed' | 'error';
const stream = (reason: Reason = 'initial'): Phase => ({ kind: 'list', reason, method: 'watchlist' });
const pages = (reason: Reason = 'initial'): Phase => ({ kind: 'list', reason, method: 'paged' });
const status = (code: number, retryAfterSeconds?: number): Ending => ({
  err: new ApiError(code, { kind: 'Status', code }, retryAfterSeconds),
});
const closed = (events: number, durationMs: number, how?: 'idle' | 'broken'): Ending => ({
  closed: {
    events,
    durationMs,
    idle: how === 'idle',
    broken: how === 'broken' ? new TransportError('hang up') : undefined,
  },
});
const INCOMPLETE = new WatchListIncompleteError({});
const REFUSED_TCP = new TransportError('connect ECONNREFUSED');
const MALFORMED = new WatchDecodeError('malformed watch event', '{"type":');

const REFUSED = 'watch-list refused: waiting, then streaming again';
const BY_PAGES = 'watch-list failed before its initial state was complete: listing by pages';
const WATCH_REFUSED = 'watch refused: backing off, then watching from the same version';

type Row = [
  what: string,
  from: Phase,
  ending: Ending,
  next: Phase,
  backoff: boolean,
  Transition['level'],
  string,
];

// watchList on, one event since the last list, watches shorter than 1 s without an event are "very short".
// prettier-ignore
const TABLE: Row[] = [
  // A watch-list before its initial-events-end bookmark: wait and stream again when asked to, else pages.
  ['watch-list 429',                        stream(),          status(429),          stream(),          true,  'warn',  REFUSED],
  ['watch-list 503 with Retry-After',       stream('expired'), status(503, 5),       stream('expired'), true,  'warn',  REFUSED],
  ['watch-list 503 without Retry-After',    stream(),          status(503),          pages(),           false, 'info',  BY_PAGES],
  ['watch-list 400, even with Retry-After', stream(),          status(400, 5),       pages(),           false, 'info',  BY_PAGES],
  ['watch-list 403',                        stream(),          status(403),          pages(),           false, 'info',  BY_PAGES],
  ['watch-list closed before its end',      stream('error'),   { err: INCOMPLETE },  pages('error'),    false, 'info',  BY_PAGES],
  // A paged list: the same list again after the backoff.
  ['paged list broke',                      pages(),           { err: REFUSED_TCP }, pages(),           true,  'warn',  'list failed'],
  ['paged list 429',                        pages('expired'),  status(429, 30),      pages('expired'),  true,  'warn',  'list failed'],
  ['paged list 403',                        pages(),           status(403),          pages(),           true,  'error', 'list failed: access denied'],
  ['paged list 401',                        pages(),           status(401),          pages(),           true,  'error', 'list failed: access denied'],
  // A watch that failed.
  ['watch 410',                             WATCH,             status(410),          stream('expired'), false, 'info',  'resourceVersion expired: relisting'],
  ['watch malformed line',                  WATCH,             { err: MALFORMED },   stream('malformed'), true, 'error', 'malformed watch event: relisting'],
  ['watch 429',                             WATCH,             status(429),          WATCH,             true,  'warn',  WATCH_REFUSED],
  ['watch 503',                             WATCH,             status(503),          WATCH,             true,  'warn',  WATCH_REFUSED],
  ['watch 403',                             WATCH,             status(403),          stream('error'),   true,  'error', 'watch failed: access denied: relisting'],
  ['watch 500',                             WATCH,             status(500),          stream('error'),   true,  'warn',  'watch failed: relisting'],
  // A watch that closed: watch again from the same version.
  ['watch silent past its timeout',         WATCH,             closed(3, 400_000, 'idle'), WATCH,       false, 'warn',  'watch silent past its timeout, presumed dead: reconnecting'],
  ['very short watch',                      WATCH,             closed(0, 999),       WATCH,             true,  'warn',  'very short watch: backing off before watching again'],
  ['short watch with an event',             WATCH,             closed(1, 10),        WATCH,             false, 'debug', 'watch ended, resuming'],
  ['watch the server ended',                WATCH,             closed(0, 1_000),     WATCH,             false, 'debug', 'watch ended, resuming'],
  ['watch broke',                           WATCH,             closed(5, 6_000, 'broken'), WATCH,       false, 'debug', 'watch broke, resuming'],
];

describe('nextPhase', () => {
  const context = { watchList: true, eventsSinceList: 1, shortWatchMs: 1_000 };

  it.each(TABLE)('%s', (_what, from, ending, phase, backoff, level, msg) => {
    const listFailed = from.kind === 'list' && from.method === 'paged';
    expect(nextPhase(from, ending, context)).toEqual({ phase, backoff, level, msg, listFailed });
  });

  it('waits out the backoff before relisting on a 410 with no event since the last list', () => {
    const next = nextPhase(WATCH, status(410), { ...context, eventsSinceList: 0 });
    expect(next).toMatchObject({ phase: stream('expired'), backoff: true });
  });

  it('relists by pages where watch-lists are off', () => {
    const paged = { ...context, watchList: false };
    expect(nextPhase(WATCH, status(410), paged).phase).toEqual(pages('expired'));
    expect(nextPhase(WATCH, status(500), paged).phase).toEqual(pages('error'));
  });
});
