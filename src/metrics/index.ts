export { perRegistry } from './per-registry.ts';
