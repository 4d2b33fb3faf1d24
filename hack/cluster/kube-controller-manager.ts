import { join } from 'node:path';

/**
 * Flags for kube-controller-manager against the local API server (kubernetes v1.37.2
 * cmd/kube-controller-manager/app/options). Every controller on by default runs (`--controllers=*`):
 * ServiceAccounts and their tokens, ReplicaSets, Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs, the garbage collector, namespace deletion, node lifecycle and taint eviction, pod GC.
 */
export function controllerManagerArgs(dir: string, securePort: number): string[] {
  return [
    `--kubeconfig=${join(dir, 'kube-controller-manager.kubeconfig')}`,
    // One instance: no Lease to win first, none to lose while the API server restarts.
    '--leader-elect=false',
    // Every controller under this kubeconfig's admin identity, rather than a ServiceAccount each,
    // whose tokens would have to be issued and refreshed during API-server restarts.
    '--use-service-account-credentials=false',
    // The token controller's signing key (legacy token Secrets); the same key the API server verifies.
    `--service-account-private-key-file=${join(dir, 'sa.key')}`,
    // Published as each namespace's kube-root-ca.crt ConfigMap, which projected token volumes mount,
    // and as a ClusterTrustBundle: the CA alone, since a bundle's entries must all be CAs.
    `--root-ca-file=${join(dir, 'certs', 'ca.crt')}`,
    // client-go's 20 qps / burst 30 share a production API server among many clients; here the
    // controllers are its main client, and a test's 2,000 pods should not take 100 s to make.
    '--kube-api-qps=200',
    '--kube-api-burst=400',
    '--bind-address=127.0.0.1',
    `--secure-port=${securePort}`,
    '--cluster-name=pod-sync-local',
  ];
}
