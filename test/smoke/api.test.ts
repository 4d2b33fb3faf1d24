import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pinnedVersion } from '../../hack/cluster/binaries.ts';
import { adminKubeConfig, createNamespace, podManifest } from '../helpers/cluster.ts';

describe('the local control plane', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);

  it('reports the pinned Kubernetes version on /version', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(pinnedVersion());
    expect(Number(version.minor)).toBeGreaterThanOrEqual(35);
  });

  it('lists namespaces, including the ones kube-apiserver creates itself', async () => {
    const list = await core.listNamespace();
    const names = list.items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public']));
  });

  it('creates a namespace and pods, and lists them page by page with continue tokens', async () => {
    const namespace = await createNamespace('smoke-page');
    const created = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const name of created) await core.createNamespacedPod({ namespace, body: podManifest(name) });

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedPod({ namespace, limit: 2, _continue: token });
      pages.push(page.items.map((p) => p.metadata?.name ?? ''));
      token = page.metadata?._continue || undefined;
      if (token) expect(page.metadata?.remainingItemCount).toBe(created.length - pages.flat().length);
    } while (token);

    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual(created);
  });
});
