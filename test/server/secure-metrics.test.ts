// --metrics-secure against a real kube-apiserver of its own, whose audit log records every TokenReview
// and SubjectAccessReview: the three answers (401, 403, 200), the decision cache counted on the server
// side, a certificate rotated on disk and served without a restart, and a certificate directory that
// cannot be used. The operator runs as a ServiceAccount of its own so that its reviews can be told apart
// from the test's.
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  loadYaml,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../hack/cluster/control-plane.ts';
import { renderKubeconfig } from '../../hack/cluster/kubeconfig.ts';
import { generateSelfSignedCertKey, type CertKeyPair } from '../../src/server/index.ts';
import { scrapeMetrics } from '../helpers/metrics.ts';
import { startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { eventually } from '../../src/testing/index.ts';

const REPO = join(import.meta.dirname, '..', '..');
const NAMESPACE = 'metrics-test';
const OPERATOR = `system:serviceaccount:${NAMESPACE}:operator`;
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: authentication.k8s.io
        resources: [tokenreviews]
      - group: authorization.k8s.io
        resources: [subjectaccessreviews]
  - level: None
`;

let cp: ControlPlane;
let kc: KubeConfig;
let auditLog = '';
const running: OperatorProcess[] = [];
const temp: string[] = [];

/** A fresh TokenRequest token of `name` in the test namespace (the account is created if need be). */
async function token(name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  await core
    .createNamespacedServiceAccount({ namespace: NAMESPACE, body: { metadata: { name } } })
    .catch(() => {
      // It exists already.
    });
  const request = await core.createNamespacedServiceAccountToken({
    namespace: NAMESPACE,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return request.status?.token ?? '';
}

async function bindClusterRole(role: string, account: string): Promise<void> {
  await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: `${role}-${account}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: NAMESPACE }],
    },
  });
  // The authorizer sees a binding moments after it is written: wait, asking as the admin (whose own
  // reviews are not the operator's), so that the operator's first review already gets the grant.
  await eventually(async () => {
    const review = await kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${NAMESPACE}:${account}`,
          groups: ['system:serviceaccounts', 'system:authenticated'],
          ...(role === 'cluster-admin'
            ? { resourceAttributes: { verb: 'list', resource: 'pods' } }
            : { nonResourceAttributes: { verb: 'get', path: '/metrics' } }),
        },
      },
    });
    return review.status?.allowed === true;
  }, 20_000);
}

/** The operator's reviews so far, by kind, from the API server's audit log. */
function reviews(): { tokenreviews: number; subjectaccessreviews: number } {
  const counts = { tokenreviews: 0, subjectaccessreviews: 0 };
  for (const line of readFileSync(auditLog, 'utf8').split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as {
      stage: string;
      verb: string;
      user: { username: string };
      objectRef?: { resource?: string };
    };
    const resource = event.objectRef?.resource;
    if (event.stage !== 'ResponseComplete' || event.verb !== 'create' || event.user.username !== OPERATOR)
      continue;
    if (resource === 'tokenreviews' || resource === 'subjectaccessreviews') counts[resource]++;
  }
  return counts;
}

/** The operator as `operator`, with --metrics-secure and any further flags. */
async function operator(...flags: string[]): Promise<OperatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'secure-metrics-'));
  temp.push(dir);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    renderKubeconfig({ name: 'metrics', server: cp.server, caPem: cp.ca, token: await token('operator') }),
  );
  const op = startOperator([
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    NAMESPACE,
    '--metrics-secure',
    ...flags,
  ]);
  running.push(op);
  return op;
}

/** A certificate directory laid out as the kubelet mounts a Secret: tls.crt -> ..data/tls.crt. */
function secretVolume(pair: CertKeyPair): { dir: string; rotate: (next: CertKeyPair) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'metrics-certs-'));
  temp.push(dir);
  let version = 0;
  const write = (next: CertKeyPair): string => {
    const name = `..2026_01_01_00_00_0${String(version++)}`;
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'tls.crt'), next.cert);
    writeFileSync(join(dir, name, 'tls.key'), next.key);
    return name;
  };
  let current = write(pair);
  symlinkSync(current, join(dir, '..data'));
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));
  return {
    dir,
    rotate: (next) => {
      const previous = current;
      current = write(next);
      symlinkSync(current, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, previous), { recursive: true });
    },
  };
}

/** The last certificate of a chain: its CA. */
const caOf = (pair: CertKeyPair) => pair.cert.slice(pair.cert.lastIndexOf('-----BEGIN CERTIFICATE-----'));

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'));
  temp.push(dir);
  writeFileSync(join(dir, 'policy.yaml'), AUDIT_POLICY);
  auditLog = join(dir, 'audit.log');
  cp = await ControlPlane.start({
    extraApiServerArgs: [`--audit-policy-file=${join(dir, 'policy.yaml')}`, `--audit-log-path=${auditLog}`],
  });
  kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
  // The metrics reader as deploy/ defines it.
  const reader = loadYaml<V1ClusterRole>(
    readFileSync(join(REPO, 'config', 'rbac', '70-metrics-reader-role.yaml'), 'utf8'),
  );
  await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRole({ body: reader });
  await token('operator');
  await bindClusterRole('cluster-admin', 'operator');
}, 120_000);

afterAll(async () => {
  await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
  await cp.stop();
  for (const dir of temp.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('--metrics-secure against the API server', () => {
  let metrics = '';
  beforeAll(async () => {
    const op = await operator();
    await op.waitFor((l) => l.msg === 'caches synced', 60_000);
    metrics = (await op.addresses()).metrics;
  }, 120_000);

  it('serves HTTPS and answers 401 without a token or with a forged one, the former without a review', async () => {
    expect(metrics).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const before = reviews();
    expect(await scrapeMetrics(metrics)).toMatchObject({ status: 401, body: 'Unauthorized\n' });
    expect(reviews()).toEqual(before);
    expect(await scrapeMetrics(metrics, { token: 'forged.jwt.token' })).toMatchObject({
      status: 401,
      body: 'Unauthorized\n',
    });
    expect(reviews().tokenreviews).toBe(before.tokenreviews + 1);
    expect(reviews().subjectaccessreviews).toBe(before.subjectaccessreviews);
  });

  it('answers 403 to a token whose account may not get /metrics', async () => {
    expect(await scrapeMetrics(metrics, { token: await token('stranger') })).toMatchObject({
      status: 403,
      body: `Authorization denied for user system:serviceaccount:${NAMESPACE}:stranger\n`,
    });
  });

  it('serves the metrics to a token whose account is bound to the metrics-reader ClusterRole', async () => {
    await bindClusterRole('pod-sync-operator-metrics-reader', 'prometheus');
    const scrape = await scrapeMetrics(metrics, { token: await token('prometheus') });
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('# TYPE controller_runtime_reconcile_total counter');
  });

  it('costs one TokenReview and one SubjectAccessReview for 100 scrapes by one caller', async () => {
    await bindClusterRole('pod-sync-operator-metrics-reader', 'scraper');
    const scraper = await token('scraper');
    const before = reviews();
    const started = Date.now();
    for (let i = 0; i < 100; i++) expect((await scrapeMetrics(metrics, { token: scraper })).status).toBe(200);
    const after = reviews();
    const spent = {
      tokenreviews: after.tokenreviews - before.tokenreviews,
      subjectaccessreviews: after.subjectaccessreviews - before.subjectaccessreviews,
    };
    console.log(`100 scrapes in ${String(Date.now() - started)} ms cost ${JSON.stringify(spent)}`);
    // One of each within the TTLs (1 minute, 5 minutes); two if the run outlasted the first minute.
    expect(spent.tokenreviews).toBeGreaterThanOrEqual(1);
    expect(spent.tokenreviews).toBeLessThanOrEqual(2);
    expect(spent.subjectaccessreviews).toBe(1);
  });
});

describe('--metrics-cert-dir', () => {
  it('serves the certificate from the directory, and a rotated one without a restart', async () => {
    const [first, second] = await Promise.all([generateSelfSignedCertKey(), generateSelfSignedCertKey()]);
    const volume = secretVolume(first);
    const op = await operator(`--metrics-cert-dir=${volume.dir}`);
    const { metrics } = await op.addresses();
    const reader = await token('prometheus');
    // Verified against the first CA, as a ServiceMonitor with tlsConfig.ca would.
    const scrape = await scrapeMetrics(metrics, { token: reader, ca: caOf(first) });
    expect(scrape.status).toBe(200);
    const before = scrape.fingerprint;

    volume.rotate(second);
    let rotated = scrape;
    await eventually(async () => {
      rotated = await scrapeMetrics(metrics, { token: reader, ca: caOf(second) }).catch(() => scrape);
      return rotated.fingerprint !== before;
    }, 15_000);
    expect(rotated.status).toBe(200);
    expect(op.child.exitCode).toBeNull();
    expect(op.lines.filter((l) => l.msg === 'starting pod-sync-operator')).toHaveLength(1);
    expect(op.lines.some((l) => l.msg === 'updated current TLS certificate')).toBe(true);
    // The first CA no longer verifies what is served.
    await expect(scrapeMetrics(metrics, { token: reader, ca: caOf(first) })).rejects.toThrow();
  });

  it('refuses a directory without a usable pair: one line, exit 2', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'metrics-certs-'));
    temp.push(empty);
    const op = await operator(`--metrics-cert-dir=${empty}`);
    expect(await op.exited).toBe(2);
    const failure = op.lines.find((l) => l.msg === 'start-up failed');
    expect((failure?.err as { message?: string } | undefined)?.message).toMatch(
      new RegExp(`^--metrics-cert-dir ${empty}: no usable tls\\.crt and tls\\.key: ENOENT`),
    );
  });
});
