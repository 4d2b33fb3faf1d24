import { Counter, type Registry } from 'prom-client';

type Label = 'resource' | 'reason';

export const INFORMER_LISTS = {
  name: 'informer_lists_total',
  help: 'Completed lists of informers, by resource and reason (initial, expired, malformed, error).',
} as const;

export type ListCounter = Counter<Label>;

/** A registry accepts each name once, so every informer on it shares one counter. */
const counters = new WeakMap<Registry, ListCounter>();

/** The list counter on `registry`, or one registered nowhere without it. */
export function informerLists(registry?: Registry): ListCounter {
  const make = (registers: Registry[]): ListCounter =>
    new Counter({ ...INFORMER_LISTS, labelNames: ['resource', 'reason'], registers });
  if (!registry) return make([]);
  let counter = counters.get(registry);
  if (!counter) counters.set(registry, (counter = make([registry])));
  return counter;
}
