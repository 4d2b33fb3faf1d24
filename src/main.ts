#!/usr/bin/env node
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { loadKubeConfig } from './config/kubeconfig.ts';
import { parseCommandLine, usage, UsageError } from './config/flags.ts';
import { createLogger } from './logging/logger.ts';
import { VERSION } from './version.ts';

/** Counts pods a page at a time, as the informers will list them, so a large cluster is not one response. */
async function countPods(core: CoreV1Api): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await core.listPodForAllNamespaces({ limit: 500, _continue: token });
    count += page.items.length;
    token = page.metadata?._continue || undefined;
  } while (token);
  return count;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pod-sync-operator: ${err.message} (see --help)\n`);
    return 2;
  }
  if (parsed.action === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (parsed.action === 'version') {
    process.stdout.write(`pod-sync-operator ${VERSION}\n`);
    return 0;
  }
  const { settings } = parsed;
  const log = createLogger({ level: settings.logLevel, format: settings.logFormat });
  try {
    const { kubeConfig, source } = loadKubeConfig({
      flag: settings.kubeconfig,
      serviceAccountDir: settings.serviceAccountDir,
    });
    const server = kubeConfig.getCurrentCluster()?.server;
    const version = await kubeConfig.makeApiClient(VersionApi).getCode();
    const pods = await countPods(kubeConfig.makeApiClient(CoreV1Api));
    log.info(
      { kubeconfig: source, server, serverVersion: version.gitVersion, pods },
      'connected to the API server',
    );
    return 0;
  } catch (err) {
    log.error({ err: { message: (err as Error).message } }, 'start-up failed');
    return 1;
  }
}

process.exitCode = await main();
