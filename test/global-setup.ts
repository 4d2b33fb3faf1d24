// One living cluster per test run (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
// and three fake nodes); tests find it through inject('kubeconfig') and work in namespaces of their own
// (test/helpers/cluster.ts), so test files run in parallel against it. Tests that need a bare API
// server, or restart and compact, start a control plane of their own.
import type { TestProject } from 'vitest/node';
import { ControlPlane } from '../hack/cluster/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    server: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const cp = await ControlPlane.start({ living: true });
  console.log(`living cluster ready at ${cp.server} in ${Date.now() - started} ms`);
  // The guards stop the binaries if this process dies; these handlers stop them sooner and in order.
  const onExit = (): void => {
    cp.killNow();
  };
  process.once('exit', onExit);
  project.provide('kubeconfig', cp.kubeconfigPath);
  project.provide('server', cp.server);
  return async () => {
    process.off('exit', onExit);
    await cp.stop();
  };
}
