import { homedir } from 'node:os';
import { anonymousConfig, isTransportTls, type RestConfig } from '../client/index.ts';
import { clientConfig, EmptyConfigError, normalizeHost } from './client-config.ts';
import { KubeconfigError } from './errors.ts';
import { DEFAULT_SERVICE_ACCOUNT_DIR, inClusterConfig } from './in-cluster.ts';
import { defaultLoadingRules, loadKubeconfigFiles, type LoadingRules } from './loader.ts';

export interface ConfigSources {
  /** --kubeconfig: when given, the only file read. */
  kubeconfig?: string | undefined;
  /** --master: the server, overriding the one the configuration names. */
  master?: string | undefined;
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
  home?: string;
}

export interface LoadedRestConfig {
  config: RestConfig;
  /** Where it came from, for the start-up log line: "in-cluster", or the kubeconfig files read. */
  source: string;
  /** Worth a warning line: unknown kubeconfig fields, a CA that does not parse, missing files. */
  warnings: string[];
}

/**
 * Finds the client configuration in controller-runtime's order:
 * 1. --kubeconfig: that file alone (missing: an error);
 * 2. $KUBECONFIG unset: in-cluster, when this is a pod;
 * 3. the default loading rules: every file of $KUBECONFIG merged (missing ones skipped), or
 *    ~/.kube/config; when they name no cluster at all, in-cluster once more.
 * --master overrides the server of whichever is found (and alone is enough).
 * Sources: controller-runtime pkg/client/config/config.go loadConfig; client-go
 * tools/clientcmd/merged_client_builder.go DeferredLoadingClientConfig.ClientConfig,
 * client_config.go BuildConfigFromFlags, inClusterClientConfig.ClientConfig.
 * @throws KubeconfigError with one line naming the file or entry at fault.
 */
export function loadRestConfig(sources: ConfigSources = {}): LoadedRestConfig {
  const env = sources.env ?? process.env;
  const saDir = sources.serviceAccountDir ?? DEFAULT_SERVICE_ACCOUNT_DIR;
  const master = sources.master ? normalizeHost(sources.master, '--master') : undefined;

  if (sources.kubeconfig) {
    return fromFiles({ explicitPath: sources.kubeconfig, precedence: [] }, master, () => {
      throw new KubeconfigError(`--kubeconfig ${sources.kubeconfig}: names no cluster`);
    });
  }

  const tried: string[] = [];
  const inCluster = (): LoadedRestConfig | undefined => {
    const result = inClusterConfig(env, saDir);
    if (result.notInCluster !== undefined) {
      tried.push(`in-cluster (${result.notInCluster})`);
      return undefined;
    }
    return {
      config: master ? withHost(result.config, master) : result.config,
      source: 'in-cluster',
      warnings: result.warnings,
    };
  };
  if (!env.KUBECONFIG) {
    const found = inCluster();
    if (found) return found;
  }
  const rules = defaultLoadingRules(env.KUBECONFIG, sources.home ?? homedir());
  return fromFiles(rules, master, (missing, why) => {
    const where = env.KUBECONFIG ? `$KUBECONFIG (${rules.precedence.join(':')})` : rules.precedence.join(':');
    tried.unshift(`${where}: ${missing.length === rules.precedence.length ? 'no such file' : why}`);
    if (env.KUBECONFIG) {
      const found = inCluster();
      if (found) return found;
    }
    throw new KubeconfigError(`no Kubernetes client configuration found; tried ${tried.join(', ')}`);
  });
}

function fromFiles(
  rules: LoadingRules,
  master: string | undefined,
  onEmpty: (missing: string[], why: string) => LoadedRestConfig,
): LoadedRestConfig {
  const loaded = loadKubeconfigFiles(rules);
  const source = loaded.files.join(':');
  const at = (message: string) => `kubeconfig ${source || rules.precedence.join(':')}: ${message}`;
  try {
    const result = clientConfig(loaded.config, { server: master });
    return { config: result.config, source: source || '--master', warnings: result.warnings };
  } catch (err) {
    if (err instanceof EmptyConfigError) return onEmpty(loaded.missing, err.message);
    if (err instanceof KubeconfigError) throw new KubeconfigError(at(err.message));
    throw err;
  }
}

/** inClusterClientConfig with a server override; an http server gets neither token nor CA. */
function withHost(config: RestConfig, host: string): RestConfig {
  return isTransportTls(host) ? { ...config, host } : anonymousConfig(host);
}
