import type { Registry } from 'prom-client';

/**
 * Memoises a component's metric set by registry: prom-client refuses a second metric of one name in a
 * registry, so every queue, controller or informer registered there shares one set and tells itself
 * apart by label. Without a registry the set is registered nowhere (components run unobserved).
 */
export function perRegistry<T>(create: (registers: Registry[]) => T): (registry?: Registry) => T {
  const sets = new WeakMap<Registry, T>();
  return (registry) => {
    if (!registry) return create([]);
    let set = sets.get(registry);
    if (!set) {
      set = create([registry]);
      sets.set(registry, set);
    }
    return set;
  };
}
