export type { AuthInfo, Cluster, Config, Context, ExecConfig } from './api.ts';
export {
  clientConfig,
  EmptyConfigError,
  type ClientConfigResult,
  type ConfigOverrides,
} from './client-config.ts';
export { decodeKubeconfig } from './decode.ts';
export { KubeconfigError } from './errors.ts';
export { DEFAULT_SERVICE_ACCOUNT_DIR, inClusterConfig } from './in-cluster.ts';
export { loadRestConfig, type ConfigSources, type LoadedRestConfig } from './load-config.ts';
export { defaultLoadingRules, loadKubeconfigFiles, type LoadingRules } from './loader.ts';
