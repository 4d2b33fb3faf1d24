// The Deployment's operator container as a process on this machine runs it: the same flags, and the same
// environment with the downward API values the kubelet would fill in.
import type { V1Container, V1Deployment } from '@kubernetes/client-node';

export function operatorContainer(deployment: V1Deployment): V1Container {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const container = containers.find((c) => c.name === 'operator');
  if (!container || containers.length !== 1)
    throw new Error('the Deployment should run one container, operator');
  return container;
}

/** The container's args, and its env resolved for a pod of that name and namespace. */
export function containerProcess(
  deployment: V1Deployment,
  pod: { name: string; namespace: string },
): { args: string[]; env: NodeJS.ProcessEnv } {
  const container = operatorContainer(deployment);
  const env: NodeJS.ProcessEnv = {};
  for (const variable of container.env ?? []) {
    const field = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (field === 'metadata.name') env[variable.name] = pod.name;
    else if (field === 'metadata.namespace') env[variable.name] = pod.namespace;
    else throw new Error(`env ${variable.name}: the test does not know how to fill it in`);
  }
  return { args: [...(container.command ?? []), ...(container.args ?? [])], env };
}

/**
 * The container's flags with the servers moved to ephemeral loopback ports: processes of parallel tests
 * share this machine's ports, where each pod has its own.
 */
export function localArgs(args: readonly string[]): string[] {
  return [...args, '--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'];
}
