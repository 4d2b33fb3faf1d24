export { clientConfig } from './client-config.ts';
export { decodeKubeconfig } from './decode.ts';
export { KubeconfigError } from './errors.ts';
export { DEFAULT_SERVICE_ACCOUNT_DIR } from './in-cluster.ts';
export { loadRestConfig } from './load-config.ts';
