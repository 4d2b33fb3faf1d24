import { join } from 'node:path';

/** Flags for kube-scheduler against the local API server (kubernetes v1.37.2 cmd/kube-scheduler/app/options). */
export function schedulerArgs(dir: string, securePort: number): string[] {
  return [
    // Deprecated in favour of a KubeSchedulerConfiguration file, still honoured without --config.
    `--kubeconfig=${join(dir, 'kube-scheduler.kubeconfig')}`,
    '--leader-elect=false',
    // Deprecated with --kubeconfig, still honoured: binds as fast as the controller manager makes pods.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--bind-address=127.0.0.1',
    `--secure-port=${securePort}`,
  ];
}
