import { Counter } from 'prom-client';
import { perRegistry } from '../metrics/per-registry.ts';

type Label = 'resource' | 'reason';

export const INFORMER_LISTS = {
  name: 'informer_lists_total',
  help: 'Completed lists of informers, by resource and reason (initial, expired, malformed, error).',
} as const;

export type ListCounter = Counter<Label>;

/** The list counter on `registry`, or one registered nowhere without it. */
export const informerLists = perRegistry(
  (registers): ListCounter =>
    new Counter({ ...INFORMER_LISTS, labelNames: ['resource', 'reason'], registers }),
);
