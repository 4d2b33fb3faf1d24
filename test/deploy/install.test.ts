// `kubectl apply -f deploy/` as a user runs it, against the real API server, then `-R -f deploy/` and
// `-k config/` over it (the same objects: nothing changes), then the operator as the ServiceAccount it
// installs (in-cluster emulation: TokenRequest token, CA, namespace file, no kubeconfig) with the
// Deployment's own flags and environment. On the living cluster the Deployment's pods are made and
// bound, but kwok runs no container: the test runs its two replicas as local processes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, createNamespace, podManifest, serviceAccountToken } from '../helpers/cluster.ts';
import { inClusterAs } from '../helpers/in-cluster.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';
import { scrapeMetrics } from '../helpers/metrics.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { cronJob, deployment as workloadDeployment, rolledOut } from '../helpers/workloads.ts';
import { containerProcess, localArgs } from './container.ts';
import {
  APPLY_FILE,
  APPLY_KUSTOMIZE,
  APPLY_RECURSIVE,
  CONFIG_DIR,
  DEPLOY_DIR,
  DEPLOY_NAMESPACE,
  SERVICE_ACCOUNT,
  deployObjects,
  deploymentOf,
  grantedRules,
  type Manifest,
  type Source,
} from './manifests.ts';
import { awaitPermissions, permissions, rulesReview } from './permissions.ts';
import { eventually } from '../../src/testing/index.ts';

/** "namespace/pod-sync-system", "deployment.apps/pod-sync-operator", ... as kubectl names them. */
function kubectlName(o: Manifest): string {
  const [group] = o.apiVersion?.includes('/') ? o.apiVersion.split('/') : [''];
  return `${(o.kind ?? '').toLowerCase()}${group ? `.${group}` : ''}/${o.metadata?.name ?? ''}`;
}

/** kubectl's one line per object ("<name> <what happened>"), in order. */
const lines = (stdout: string): string[] => stdout.trim().split('\n');

/** Objects in a fixed order, for sources that list them in different orders (kustomize sorts by kind). */
const sorted = (objects: Manifest[]) => objects.map((o) => JSON.stringify(o)).sort();

async function resourceVersions(): Promise<string> {
  return kubectlOk([
    'get',
    '-f',
    DEPLOY_DIR,
    '-o',
    'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
  ]);
}

const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});

describe('kubectl apply -f deploy/ on a cluster without the operator', () => {
  let objects: Manifest[] = [];
  let deployment: V1Deployment;
  beforeAll(async () => {
    objects = await deployObjects();
    deployment = deploymentOf(objects);
  });

  it('reads the same objects from deploy/ with or without -R, and from config/ with -k', async () => {
    // kubectl apply acts on what it reads, so equal input makes the three commands equal.
    expect(await deployObjects(APPLY_RECURSIVE)).toEqual(objects);
    expect(sorted(await deployObjects(APPLY_KUSTOMIZE))).toEqual(sorted(objects));
    expect(objects).toHaveLength(12);
  });

  it('lets a kustomize overlay set the image, as `kustomize edit set image` writes it', async () => {
    // Exactly what `kustomize edit set image pod-sync-operator=registry.example/team/pod-sync-operator:1.2.3`
    // (kustomize v5.8.1) writes into an overlay's kustomization.yaml; kubectl has no `edit` of its own.
    const overlay = mkdtempSync(join(tmpdir(), 'overlay-'));
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `- ${relative(overlay, CONFIG_DIR)}`,
        'images:',
        '- name: pod-sync-operator',
        '  newName: registry.example/team/pod-sync-operator',
        '  newTag: 1.2.3',
        '',
      ].join('\n'),
    );
    const rendered = await deployObjects(['-k', overlay]);
    expect(deploymentOf(rendered).spec?.template.spec?.containers[0]?.image).toBe(
      'registry.example/team/pod-sync-operator:1.2.3',
    );
    // Nothing else differs from deploy/.
    const withImage = objects.map((o) => {
      if (o.kind !== 'Deployment') return o;
      const copy = structuredClone(o);
      const [container] = deploymentOf([copy]).spec?.template.spec?.containers ?? [];
      if (container) container.image = 'registry.example/team/pod-sync-operator:1.2.3';
      return copy;
    });
    expect(sorted(rendered)).toEqual(sorted(withImage));
    rmSync(overlay, { recursive: true });
  });

  it('finds none of its objects there yet', async () => {
    const got = await kubectl(['get', '-f', DEPLOY_DIR]);
    expect(got.code).not.toBe(0);
    expect(got.stderr.trim().split('\n')).toHaveLength(objects.length);
    expect(got.stderr).not.toMatch(/^(?!Error from server \(NotFound\)).+$/m);
  });

  it('server dry run first: cluster-scoped objects pass, namespaced ones lack only the namespace a dry run does not create', async () => {
    const dry = await kubectl(['apply', '--dry-run=server', '-f', DEPLOY_DIR]);
    const clusterScoped = objects.filter((o) => !o.metadata?.namespace);
    const namespaced = objects.filter((o) => o.metadata?.namespace);
    expect(lines(dry.stdout)).toEqual(clusterScoped.map((o) => `${kubectlName(o)} created (server dry run)`));
    const errors = dry.stderr.trim().split('\n');
    expect(errors).toHaveLength(namespaced.length);
    for (const error of errors) {
      expect(error).toMatch(
        new RegExp(
          `^Error from server \\(NotFound\\): error when creating ".+": namespaces "${DEPLOY_NAMESPACE}" not found$`,
        ),
      );
    }
    // Nothing was written.
    expect((await kubectl(['get', 'namespace', DEPLOY_NAMESPACE])).code).not.toBe(0);
  });

  it('installs every object in one go, the Namespace first, with no warning (PodSecurity would warn here)', async () => {
    const applied = await kubectl(['apply', '-f', DEPLOY_DIR]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(lines(applied.stdout)).toEqual(objects.map((o) => `${kubectlName(o)} created`));
    expect(objects[0]?.kind).toBe('Namespace');
  });

  it.each([
    ['-f deploy/', APPLY_FILE],
    ['-R -f deploy/', APPLY_RECURSIVE],
    ['-k config/', APPLY_KUSTOMIZE],
  ] as [string, Source][])('applies again with %s without changing anything', async (_name, source) => {
    const before = await resourceVersions();
    const again = await kubectl(['apply', ...source]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    // kubectl reports the PodDisruptionBudget "configured" on every apply: its selector has the patch
    // strategy "replace", so client-side apply always sends it, and the server finds nothing to change.
    expect(lines(again.stdout).sort()).toEqual(
      objects
        .map((o) => `${kubectlName(o)} ${o.kind === 'PodDisruptionBudget' ? 'configured' : 'unchanged'}`)
        .sort(),
    );
    // No object was written: every resourceVersion is the same, and kubectl diff finds no difference.
    expect(await resourceVersions()).toBe(before);
    const diff = await kubectl(['diff', ...source]);
    expect({ code: diff.code, stdout: diff.stdout, stderr: diff.stderr }).toEqual({
      code: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('passes a server dry run once installed', async () => {
    const dry = await kubectl(['apply', '--dry-run=server', '-f', DEPLOY_DIR]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(lines(dry.stdout)).toHaveLength(objects.length);
    for (const line of lines(dry.stdout)) expect(line).toMatch(/ (unchanged|configured) \(server dry run\)$/);
  });

  it('grants its ServiceAccount exactly the ClusterRole and Role rules, and nothing else', async () => {
    const token = await serviceAccountToken(DEPLOY_NAMESPACE, SERVICE_ACCOUNT);
    // What any authenticated identity may do (discovery, self reviews): an account with no binding.
    const elsewhere = await createNamespace('deploy-rules');
    const baseline = (await rulesReview(await serviceAccountToken(elsewhere, 'nobody'), DEPLOY_NAMESPACE))
      .resources;
    const rules = grantedRules(objects);
    const cluster = permissions(rules.filter((r) => r.kind === 'ClusterRole').map((r) => r.rule));
    const all = permissions(rules.map((r) => r.rule));
    // In its own namespace: the ClusterRole and the Role; anywhere else: the ClusterRole only.
    await awaitPermissions(token, DEPLOY_NAMESPACE, baseline, all);
    await awaitPermissions(token, elsewhere, baseline, cluster);
    const owners = [
      'cronjobs.batch',
      'daemonsets.apps',
      'deployments.apps',
      'jobs.batch',
      'replicasets.apps',
      'replicationcontrollers',
      'statefulsets.apps',
    ];
    expect([...all].sort()).toEqual(
      [
        'create leases.coordination.k8s.io',
        'create subjectaccessreviews.authorization.k8s.io',
        'create tokenreviews.authentication.k8s.io',
        'get leases.coordination.k8s.io/pod-sync-operator',
        'update leases.coordination.k8s.io/pod-sync-operator',
        ...['pods', ...owners].flatMap((r) => ['get', 'list', 'watch'].map((verb) => `${verb} ${r}`)),
      ].sort(),
    );

    // The same, as a user checks it with kubectl.
    const as = `--as=system:serviceaccount:${DEPLOY_NAMESPACE}:${SERVICE_ACCOUNT}`;
    const can = async (...args: string[]) => {
      const answer = await kubectl(['auth', 'can-i', as, ...args]);
      return `${answer.stdout.trim()}${answer.stderr.trim()}`;
    };
    expect(await can('watch', 'pods', '--all-namespaces')).toBe('yes');
    expect(await can('list', 'jobs.batch', '--all-namespaces')).toBe('yes');
    expect(await can('update', 'leases/pod-sync-operator', '-n', DEPLOY_NAMESPACE)).toBe('yes');
    expect(await can('update', 'leases/another-lease', '-n', DEPLOY_NAMESPACE)).toBe('no');
    expect(await can('create', 'leases', '-n', 'kube-system')).toBe('no');
    expect(await can('get', 'secrets', '--all-namespaces')).toBe('no');
    expect(await can('create', 'events', '-n', DEPLOY_NAMESPACE)).toBe('no');
    expect(await can('delete', 'pods', '--all-namespaces')).toBe('no');
    expect(await can('patch', 'pods', '--all-namespaces')).toBe('no');
    expect(await can('create', 'tokenreviews.authentication.k8s.io', '--all-namespaces')).toBe('yes');
    expect(await can('create', 'subjectaccessreviews.authorization.k8s.io', '--all-namespaces')).toBe('yes');
    expect(await can('get', '/metrics')).toBe('no');
  });

  it('runs as the deployed ServiceAccount: one of two replicas takes the Lease in its namespace and syncs pods in every namespace', async () => {
    const admin = adminKubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    const replicas = await Promise.all(
      ['a', 'b'].map(async (suffix) => {
        const pod = {
          name: `pod-sync-operator-7d9f8b6c5-${suffix}${randomBytes(2).toString('hex')}`,
          namespace: DEPLOY_NAMESPACE,
        };
        const inCluster = await inClusterAs(DEPLOY_NAMESPACE, SERVICE_ACCOUNT);
        const { args, env } = containerProcess(deployment, pod);
        const op = startOperator(localArgs([...args, ...inCluster.args]), { ...env, ...inCluster.env });
        running.push(op);
        return { pod, op };
      }),
    );
    for (const { op } of replicas) {
      const start = await op.waitFor((l) => l.msg === 'starting pod-sync-operator', 60_000);
      expect(start.kubeconfig).toBe('in-cluster');
      await op.waitFor((l) => l.msg === 'caches synced', 60_000);
    }
    const leading = await Promise.race(
      replicas.map(async (r) => ({
        ...r,
        line: await r.op.waitFor((l) => l.msg === 'became the leader: starting workers', 60_000),
      })),
    );
    expect(String(leading.line.identity)).toMatch(new RegExp(`^${leading.pod.name}_`));
    const lease = await admin
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: DEPLOY_NAMESPACE, name: 'pod-sync-operator' });
    expect(lease.spec?.holderIdentity).toBe(leading.line.identity);
    const standby = replicas.find((r) => r.pod.name !== leading.pod.name);
    if (!standby) throw new Error('no standby');
    for (const { op } of replicas) {
      const { probes } = await op.addresses();
      expect((await fetch(`${probes}/readyz`)).status).toBe(200);
    }

    // Metrics as deployed: HTTPS, and only for a token the metrics-reader ClusterRole is bound to, as
    // examples/monitoring/ binds it to Prometheus. The operator reviews tokens with its deployed RBAC.
    const monitoring = await createNamespace('deploy-monitoring');
    await admin.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: `${monitoring}-metrics-reader` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'pod-sync-operator-metrics-reader',
        },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: monitoring }],
      },
    });
    const prometheus = await serviceAccountToken(monitoring, 'prometheus');
    const stranger = await serviceAccountToken(monitoring, 'stranger');
    for (const { op } of replicas) {
      const { metrics } = await op.addresses();
      expect(metrics).toMatch(/^https:\/\//);
      expect((await scrapeMetrics(metrics)).status).toBe(401);
      expect(await scrapeMetrics(metrics, { token: stranger })).toMatchObject({
        status: 403,
        body: `Authorization denied for user system:serviceaccount:${monitoring}:stranger\n`,
      });
      // The binding reaches the authorizer moments after it is written; a deny is cached for 30 s.
      let scrape = await scrapeMetrics(metrics, { token: prometheus });
      await eventually(
        async () => {
          scrape = await scrapeMetrics(metrics, { token: prometheus });
          return scrape.status === 200;
        },
        45_000,
        1_000,
      );
      expect(scrape.body).toContain('# TYPE pod_sync_pods gauge');
    }

    // Pods in two namespaces of their own, as their controllers make them: one through a ReplicaSet by a
    // Deployment, one through a Job by a CronJob (the Job made from it as `kubectl create job --from`
    // does, rather than waiting for its schedule): workload resolution works with read access to
    // metadata only.
    const [one, two] = [await createNamespace('deploy-a'), await createNamespace('deploy-b')];
    const apps = admin.makeApiClient(AppsV1Api);
    const batch = admin.makeApiClient(BatchV1Api);
    await apps.createNamespacedDeployment({ namespace: two, body: workloadDeployment('web', 1) });
    const nightly = await batch.createNamespacedCronJob({
      namespace: two,
      body: cronJob('nightly', '0 3 * * *'),
    });
    await batch.createNamespacedJob({
      namespace: two,
      body: {
        metadata: {
          name: 'nightly-manual',
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: 'nightly',
              uid: nightly.metadata?.uid ?? '',
              controller: true,
            },
          ],
        },
        spec: nightly.spec.jobTemplate.spec,
      },
    });
    await core.createNamespacedPod({ namespace: one, body: podManifest('plain') });
    const [web = {}] = await rolledOut(apps, core, two, 'web');
    let job: V1Pod | undefined;
    await eventually(
      async () =>
        (job = (await core.listNamespacedPod({ namespace: two, labelSelector: 'job-name=nightly-manual' }))
          .items[0]) !== undefined,
      30_000,
    );

    const added = (namespace: string, name: string) => (l: Record<string, unknown>) =>
      l.event === 'added' && l.namespace === namespace && l.name === name;
    // Resolved when added, or (should its owners reach the caches later) in a line naming the change.
    const resolved = (namespace: string, name: string, kind: string) => (l: Record<string, unknown>) =>
      (l.event === 'added' || l.event === 'workload_changed') &&
      l.namespace === namespace &&
      l.name === name &&
      l.workloadKind === kind &&
      l.unresolvedOwnerKind === undefined;
    expect(await leading.op.waitFor(added(one, 'plain'), 30_000)).toMatchObject({ workloadKind: 'none' });
    expect(
      await leading.op.waitFor(resolved(two, web.metadata?.name ?? '', 'Deployment'), 30_000),
    ).toMatchObject({ workloadName: 'web' });
    expect(
      await leading.op.waitFor(resolved(two, job?.metadata?.name ?? '', 'CronJob'), 30_000),
    ).toMatchObject({ workloadName: 'nightly' });
    // The standby syncs nothing; nobody logged an error (a refused request would be one).
    expect(standby.op.lines.filter((l) => l.event !== undefined)).toEqual([]);
    for (const { op } of replicas) expect(op.lines.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);

    // A rolling update: the leader drains, releases the Lease, exits 0; the standby takes over at once.
    expect(await leading.op.stop('SIGTERM')).toBe(0);
    expect(leading.op.lines.some((l) => l.msg === 'released lease')).toBe(true);
    await standby.op.waitFor((l) => l.msg === 'became the leader: starting workers', 30_000);
    await core.createNamespacedPod({ namespace: one, body: podManifest('after-handover') });
    await standby.op.waitFor(added(one, 'after-handover'), 30_000);
    expect(await standby.op.stop('SIGTERM')).toBe(0);
  });
});
