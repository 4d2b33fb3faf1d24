// deploy/ and examples/monitoring/ read as kubectl reads them, checked against each other, against the
// operator's own flag parser and defaults, and (for the dashboard) against a running operator's /metrics.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  loadYaml,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1Deployment,
  type V1PodDisruptionBudget,
  type V1Role,
  type V1Service,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, FLAGS } from '../../src/config/index.ts';
import { DEPLOYED_OLD_SPACE_PERCENTAGE } from '../../src/memory/index.ts';
import { createNamespace } from '../helpers/cluster.ts';
import { kubectlOk } from '../helpers/kubectl.ts';
import { leaderElectArgs, startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { metricsText } from '../helpers/metrics.ts';
import { operatorContainer } from './container.ts';
import { INSTALL_MANIFEST, kustomizationResources, renderInstallManifest } from '../../hack/manifests.ts';
import {
  CONFIG_DIR,
  DEPLOY_NAMESPACE,
  REPO,
  SERVICE_ACCOUNT,
  deployObjects,
  deploymentOf,
  only,
  type Manifest,
} from './manifests.ts';

const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const RECOMMENDED = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) =>
      statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)],
    );
}

/** The fields of a monitoring.coreos.com/v1 ServiceMonitor that the test reads. */
interface ServiceMonitor {
  kind: string;
  metadata: { namespace: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: { matchNames: string[] };
    endpoints: {
      port: string;
      path: string;
      scheme: string;
      bearerTokenFile?: string;
      tlsConfig?: { insecureSkipVerify?: boolean };
    }[];
  };
}

const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
});

describe('deploy/', () => {
  let objects: Manifest[] = [];
  let deployment: V1Deployment;
  beforeAll(async () => {
    objects = await deployObjects();
    deployment = deploymentOf(objects);
  });

  it('holds one file, generated from config/: a source changed without `make manifests` fails here', () => {
    expect(files(join(REPO, 'deploy')).map((f) => relative(REPO, f))).toEqual([
      'deploy/pod-sync-operator.yaml',
    ]);
    // No kustomization.yaml under deploy/: `kubectl apply -f` would try to apply it as an object.
    expect(readFileSync(INSTALL_MANIFEST, 'utf8'), 'deploy/ is out of date: run `make manifests`').toBe(
      renderInstallManifest(),
    );
    // Every source is a resource of the kustomization, and nothing else is in config/.
    const sources = files(CONFIG_DIR).map((f) => relative(CONFIG_DIR, f));
    expect(sources.filter((f) => f !== 'kustomization.yaml')).toEqual(kustomizationResources());
  });

  it('holds the manifests and the RBAC, the Namespace first, everything else in it', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRole',
    ]);
    for (const o of objects) {
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind ?? '');
      expect(o.metadata?.namespace, o.kind ?? '').toBe(clusterScoped ? undefined : DEPLOY_NAMESPACE);
    }
  });

  it('labels every object, and the pods, with the recommended app.kubernetes.io labels', () => {
    const labelled = [
      ...objects.map((o) => [o.kind, o.metadata?.labels] as const),
      ['pod template', deployment.spec?.template.metadata?.labels] as const,
    ];
    for (const [what, labels] of labelled) {
      expect(Object.keys(labels ?? {}), what).toEqual(expect.arrayContaining(RECOMMENDED));
      expect(labels?.['app.kubernetes.io/name'], what).toBe('pod-sync-operator');
      expect(labels?.['app.kubernetes.io/version'], what).toBe(version);
    }
    // Selectors use only labels that never change between versions.
    const selector = deployment.spec?.selector.matchLabels;
    expect(selector).toEqual({
      'app.kubernetes.io/name': 'pod-sync-operator',
      'app.kubernetes.io/instance': 'pod-sync-operator',
    });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject(selector ?? {});
    expect((only(objects, 'Service') as V1Service).spec?.selector).toEqual(selector);
    expect(
      (only(objects, 'PodDisruptionBudget') as V1PodDisruptionBudget).spec?.selector?.matchLabels,
    ).toEqual(selector);
  });

  it('runs two replicas under leader election, with the flags the operator parses and the downward API', () => {
    expect(deployment.spec?.replicas).toBe(2);
    const container = operatorContainer(deployment);
    const parsed = parseCommandLine(container.args ?? [], {});
    if (parsed.action !== 'run') throw new Error('the Deployment args do not make a run command line');
    const { settings } = parsed;
    expect(settings.leaderElect).toBe(true);
    // kubebuilder's default: metrics over HTTPS, for callers the API server authorizes.
    expect(settings.metricsSecure).toBe(true);
    expect(container.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.name',
    );
    expect(container.env?.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.namespace',
    );
    // The ports the operator binds are the container's named ports, which the probes and the Service use.
    const port = (name: string) => container.ports?.find((p) => p.name === name)?.containerPort;
    expect(settings.metricsBindAddress).toBe(`:${String(port('metrics'))}`);
    expect(settings.healthProbeBindAddress).toBe(`:${String(port('probes'))}`);
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'probes' });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'probes' });
    const service = only(objects, 'Service') as V1Service;
    expect(service.spec?.ports).toEqual([
      { name: 'metrics', port: 8443, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    // Grace covers the drain and the Lease release after it (bounded by the renew deadline).
    const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    expect(grace * 1000).toBeGreaterThan(settings.gracefulShutdownTimeoutMs + settings.renewDeadlineMs);
  });

  it('is hardened: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const spec = deployment.spec?.template.spec;
    expect(spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(operatorContainer(deployment).securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec?.serviceAccountName).toBe(SERVICE_ACCOUNT);
    expect(spec?.hostNetwork ?? false).toBe(false);
    expect(spec?.volumes ?? []).toEqual([]);
    // One replica per node where possible.
    expect(spec?.topologySpreadConstraints?.map((c) => c.topologyKey)).toContain('kubernetes.io/hostname');
  });

  it("sets requests and limits, and V8's old generation follows the memory limit with room for the rest", () => {
    const container = operatorContainer(deployment);
    const { requests = {}, limits = {} } = container.resources ?? {};
    const mib = (q = '') => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? NaN);
    const millicores = (q = '') => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
    expect(mib(requests.memory)).toBeGreaterThan(0);
    expect(mib(limits.memory)).toBeGreaterThanOrEqual(mib(requests.memory));
    expect(millicores(requests.cpu)).toBeGreaterThan(0);
    expect(millicores(limits.cpu)).toBeGreaterThanOrEqual(millicores(requests.cpu));
    const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    // A fixed --max-old-space-size would not follow the limit (and V8 adds the young generation to it).
    expect(options).not.toMatch(/--max[-_]old[-_]space[-_]size[= ]/);
    const percentage = Number(/--max-old-space-size-percentage=(\d+)/.exec(options)?.[1]);
    expect(percentage).toBe(DEPLOYED_OLD_SPACE_PERCENTAGE);
    // What the old generation leaves: V8's young generation (48 MiB at a 1 GiB limit) and Node's native
    // memory (sockets, TLS, buffers, code: about 80 MiB measured).
    expect(mib(limits.memory) * (1 - percentage / 100)).toBeGreaterThanOrEqual(128);
    // A replica that exits for want of heap says why in its pod's status, not only in its logs.
    expect(container.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('keeps one replica through voluntary disruptions', () => {
    const pdb = only(objects, 'PodDisruptionBudget') as V1PodDisruptionBudget;
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec?.minAvailable).toBe(1);
  });

  it("grants read on exactly --owner-resources' default, besides pods", () => {
    const clusterRole = only(objects, 'ClusterRole', 'pod-sync-operator') as V1ClusterRole;
    const granted = (clusterRole.rules ?? []).flatMap((rule) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).map((resource) => (group ? `${resource}.${group}` : resource)),
      ),
    );
    const defaults = FLAGS.find((f) => f.flag === 'owner-resources')?.default as string[];
    expect(granted.filter((r) => r !== 'pods').sort()).toEqual([...defaults].sort());
    expect(granted.filter((r) => r === 'pods')).toHaveLength(1);
  });

  it('grants read on pods and owners, the one Lease, token and access reviews, nothing else: no wildcard, no Secrets, no Events', () => {
    const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as (
      V1ClusterRole | V1Role
    )[];
    const rules = roles.flatMap((r) => r.rules ?? []);
    for (const rule of rules) {
      for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs])
        expect(value).not.toContain('*');
      expect(rule.resources ?? []).not.toContain('secrets');
      expect(rule.resources ?? []).not.toContain('events');
    }
    const clusterRole = only(objects, 'ClusterRole', 'pod-sync-operator') as V1ClusterRole;
    for (const rule of clusterRole.rules ?? []) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    // controller-runtime's filters.WithAuthenticationAndAuthorization needs exactly these two.
    const metricsAuth = only(objects, 'ClusterRole', 'pod-sync-operator-metrics-auth') as V1ClusterRole;
    expect(metricsAuth.rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    // For scrapers, bound to no one here (examples/monitoring/ binds it to Prometheus).
    const reader = only(objects, 'ClusterRole', 'pod-sync-operator-metrics-reader') as V1ClusterRole;
    expect(reader.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    for (const role of roles.filter((r) => r !== reader)) {
      for (const rule of role.rules ?? []) expect(rule.nonResourceURLs ?? []).toEqual([]);
    }
    const lease = (only(objects, 'Role') as V1Role).rules ?? [];
    const leaderElectionId = FLAGS.find((f) => f.flag === 'leader-election-id')?.default;
    expect(lease.find((r) => r.resourceNames)?.resourceNames).toEqual([leaderElectionId]);
    // Bindings bind our roles (never the metrics reader) to our ServiceAccount only.
    for (const binding of objects.filter((o) =>
      o.kind?.endsWith('Binding'),
    ) as unknown as V1ClusterRoleBinding[]) {
      expect(binding.roleRef.name).not.toBe('cluster-admin');
      expect(roles.map((r) => `${r.kind ?? ''}/${r.metadata?.name ?? ''}`)).toContain(
        `${binding.roleRef.kind}/${binding.roleRef.name}`,
      );
      expect(binding.roleRef.name).not.toBe(reader.metadata?.name);
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: DEPLOY_NAMESPACE },
      ]);
    }
  });

  it('grants no Events because the operator emits none', () => {
    const sources = files(join(REPO, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    for (const file of sources) {
      expect(readFileSync(file, 'utf8'), relative(REPO, file)).not.toMatch(
        /NamespacedEvent|events\.k8s\.io|\/events\b/,
      );
    }
  });
});

describe('examples/monitoring/', () => {
  const dir = join(REPO, 'examples', 'monitoring');

  it('has a ServiceMonitor that selects the metrics Service by its port name', async () => {
    const objects = await deployObjects();
    const service = only(objects, 'Service') as V1Service;
    // Its CRD is not installed here, so kubectl cannot read it; client-node's YAML loader passes it through.
    const monitor = loadYaml<ServiceMonitor>(readFileSync(join(dir, 'servicemonitor.yaml'), 'utf8'));
    expect(monitor.kind).toBe('ServiceMonitor');
    expect(monitor.metadata.namespace).toBe(DEPLOY_NAMESPACE);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([DEPLOY_NAMESPACE]);
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints.map((e) => [e.port, e.path])).toEqual([['metrics', '/metrics']]);
    expect(service.spec?.ports?.map((p) => p.name)).toContain('metrics');
    // Over HTTPS with Prometheus's ServiceAccount token, as the operator serves it from deploy/.
    expect(monitor.spec.endpoints[0]).toMatchObject({
      scheme: 'https',
      bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      tlsConfig: { insecureSkipVerify: true },
    });
  });

  it("binds deploy/'s metrics-reader ClusterRole to Prometheus's ServiceAccount", async () => {
    const objects = await deployObjects();
    const file = join(dir, 'metrics-reader-binding.yaml');
    const binding = loadYaml<V1ClusterRoleBinding>(readFileSync(file, 'utf8'));
    const reader = only(objects, 'ClusterRole', binding.roleRef.name) as V1ClusterRole;
    expect(reader.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' },
    ]);
    // The API server accepts it as it is.
    await kubectlOk(['create', '--dry-run=server', '-f', file]);
  });

  it('has a Grafana dashboard that queries only metrics the operator exposes', async () => {
    const dashboard = JSON.parse(readFileSync(join(dir, 'grafana-dashboard.json'), 'utf8')) as {
      uid: string;
      panels: { id: number; type: string; targets?: { expr: string }[] }[];
    };
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(
      exprs.flatMap((e) =>
        [
          ...e.matchAll(
            /\b((?:workqueue|controller_runtime|pod_sync|rest_client|informer|leader_election|process|nodejs)_[a-z0-9_]+)/g,
          ),
        ].map((m) => (m[1] ?? '').replace(/_(bucket|sum|count)$/, '')),
      ),
    );

    // The families a running operator exposes (with leader election, so the Lease metrics are there).
    const namespace = await createNamespace('dashboard');
    const op = startOperator(leaderElectArgs(namespace));
    running.push(op);
    await op.waitFor((l) => l.msg === 'became the leader: starting workers', 60_000);
    const { metrics } = await op.addresses();
    const text = await metricsText(metrics);
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(12);
  });
});
