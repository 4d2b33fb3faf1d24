// The operator as it runs in a pod, on the bench's local API server: deploy/'s Namespace, ServiceAccount
// and RBAC applied by kubectl, a token from TokenRequest (`kubectl create token`) for that account, and
// what the kubelet gives the container: a service-account directory (token, ca.crt, namespace) and
// KUBERNETES_SERVICE_HOST/PORT. The Deployment's own arguments and environment (NODE_OPTIONS, POD_NAME,
// POD_NAMESPACE, --leader-elect) come from config/manifests/10-deployment.yaml; only the namespace
// scope (the bench's pods are in `default`) and the server addresses differ.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantityBytes } from './cgroup.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** Where deploy/ installs the operator, and the identity it runs as. */
export const DEPLOY_NAMESPACE = 'pod-sync-system';
export const SERVICE_ACCOUNT = 'pod-sync-operator';

export interface InCluster {
  /** The service-account directory: token, ca.crt, namespace. */
  dir: string;
  /** KUBERNETES_SERVICE_HOST/PORT and the Deployment's environment. */
  env: Record<string, string>;
  /** The Deployment's container arguments, with the servers off and the bench's namespace scope. */
  args: string[];
  /** The container's memory limit (`resources.limits.memory`), in bytes; the contender runs under it. */
  memoryLimitBytes: number | undefined;
}

interface Container {
  args?: string[];
  resources?: { limits?: { memory?: string } };
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

/** The operator container of deploy/'s Deployment, as kubectl reads it. */
function deployedContainer(kubectl: string, kubeconfig: string): Container {
  const json = execFileSync(
    kubectl,
    [
      '--kubeconfig',
      kubeconfig,
      'create',
      '--dry-run=client',
      '-o',
      'json',
      '-f',
      join(repo, 'config', 'manifests', '10-deployment.yaml'),
    ],
    { encoding: 'utf8' },
  );
  const deployment = JSON.parse(json) as { spec: { template: { spec: { containers: Container[] } } } };
  const container = deployment.spec.template.spec.containers[0];
  if (!container) throw new Error('config/manifests/10-deployment.yaml has no container');
  return container;
}

/**
 * Applies deploy/'s Namespace and RBAC, requests a token for its ServiceAccount, and writes the
 * service-account directory under `dir`. `server` is the API server's https URL, `ca` its CA (PEM).
 */
export function setUpInCluster(options: {
  kubectl: string;
  kubeconfig: string;
  server: string;
  ca: string;
  dir: string;
}): InCluster {
  const kubectl = (args: string[]): string =>
    execFileSync(options.kubectl, ['--kubeconfig', options.kubeconfig, ...args], { encoding: 'utf8' });
  kubectl(['apply', '-f', join(repo, 'config', 'manifests', '00-namespace.yaml')]);
  kubectl(['apply', '-f', join(repo, 'config', 'rbac')]);
  // Long enough for a 100,000-pod run; the operator reads the file again as it would after a rotation.
  const token = kubectl([
    'create',
    'token',
    SERVICE_ACCOUNT,
    '-n',
    DEPLOY_NAMESPACE,
    '--duration=48h',
  ]).trim();

  mkdirSync(options.dir, { recursive: true });
  chmodSync(options.dir, 0o755);
  writeFileSync(join(options.dir, 'token'), token, { mode: 0o644 });
  writeFileSync(join(options.dir, 'ca.crt'), options.ca, { mode: 0o644 });
  writeFileSync(join(options.dir, 'namespace'), DEPLOY_NAMESPACE, { mode: 0o644 });

  const container = deployedContainer(options.kubectl, options.kubeconfig);
  const url = new URL(options.server);
  const env: Record<string, string> = {
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port,
  };
  // The kubelet resolves fieldRefs; the bench plays it for the two the Deployment names.
  const fields: Record<string, string> = {
    'metadata.name': 'pod-sync-operator-bench',
    'metadata.namespace': DEPLOY_NAMESPACE,
  };
  for (const variable of container.env ?? []) {
    const value = variable.value ?? fields[variable.valueFrom?.fieldRef?.fieldPath ?? ''];
    if (value !== undefined) env[variable.name] = value;
  }
  // The servers bind loopback ports the bench does not read; the scope is the bench's namespace.
  const args = (container.args ?? []).filter(
    (a) => !a.startsWith('--metrics-bind-address') && !a.startsWith('--health-probe-bind-address'),
  );
  args.push(
    '--metrics-bind-address=0',
    '--health-probe-bind-address=0',
    '--namespace',
    'default',
    '--service-account-dir',
    options.dir,
  );
  const limit = container.resources?.limits?.memory;
  return {
    dir: options.dir,
    env,
    args,
    memoryLimitBytes: limit === undefined ? undefined : quantityBytes(limit),
  };
}
