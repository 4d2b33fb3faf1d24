import { Counter } from 'prom-client';
import { perRegistry } from '../metrics/index.ts';

type Label = 'resource' | 'reason' | 'method';

export const INFORMER_LISTS = {
  name: 'informer_lists_total',
  help: 'Completed lists of informers, by resource, reason (initial, expired, malformed, error) and method (watchlist, paged).',
} as const;

export type ListCounter = Counter<Label>;

/** The list counter on `registry`, or one registered nowhere without it. */
export const informerLists = perRegistry(
  (registers): ListCounter =>
    new Counter({ ...INFORMER_LISTS, labelNames: ['resource', 'reason', 'method'], registers }),
);
