#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { loadKubeConfig } from './config/kubeconfig.ts';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from './logging/logger.ts';

const USAGE = `Usage: pod-sync-operator [flags]

  --kubeconfig PATH     kubeconfig to use (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)
  --log-level LEVEL     ${LOG_LEVELS.join(', ')} (default: info)
  --log-format FORMAT   json or pretty (default: json)
  -h, --help            show this help`;

class UsageError extends Error {}

function parseFlags(argv: string[]): {
  kubeconfig?: string;
  level: LogLevel;
  format: LogFormat;
  help: boolean;
} {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        kubeconfig: { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        'log-format': { type: 'string', default: 'json' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const level = values['log-level'];
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`invalid --log-level "${level}": accepted values are ${LOG_LEVELS.join(', ')}`);
  }
  const format = values['log-format'];
  if (format !== 'json' && format !== 'pretty') {
    throw new UsageError(`invalid --log-format "${format}": accepted values are json, pretty`);
  }
  return { kubeconfig: values.kubeconfig, level: level as LogLevel, format, help: values.help };
}

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
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pod-sync-operator: ${err.message} (see --help)\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = createLogger({ level: flags.level, format: flags.format });
  try {
    const { kubeConfig, source } = loadKubeConfig({ flag: flags.kubeconfig });
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
