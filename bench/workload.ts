// The benchmark workload: N pods in one namespace, shaped like the pods of ten Deployments (two
// containers with resources and probes, labels, annotations, a controller owner reference to a
// ReplicaSet), with a Running, Ready status written through the status subresource as a kubelet would
// (no kubelet runs on the local control plane). Then a burst of N status updates that make every pod
// unready, then N deletes.
import { Pool } from 'undici';

export const NAMESPACE = 'default';
export const DEPLOYMENTS = 10;
export const LOAD_USER_AGENT = 'pod-sync-bench-load';

export interface ApiServerAccess {
  server: string;
  token: string;
  ca: string;
}

export interface Owner {
  deployment: string;
  replicaSet: string;
  replicaSetUid: string;
  hash: string;
}

/** When one request of a batch was sent and answered, in epoch ms (sub-ms precision). */
export interface Timed {
  name: string;
  sentAt: number;
  respondedAt: number;
}

/** Epoch ms with sub-ms precision; the same timeline in every thread of the process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, body: string, what: string) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 300)}`);
    this.status = status;
  }
}

/** A small raw client: the load must cost the API server what a kubelet's writes would, and us little. */
export class LoadClient {
  readonly #pool: Pool;
  readonly #token: string;

  constructor(access: ApiServerAccess, connections = 32) {
    this.#token = access.token;
    this.#pool = new Pool(access.server, {
      connections,
      connect: { ca: access.ca, rejectUnauthorized: true },
    });
  }

  async request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<string> {
    const response = await this.#pool.request({
      method,
      path,
      headers: {
        authorization: `Bearer ${this.#token}`,
        'user-agent': LOAD_USER_AGENT,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': contentType ?? 'application/json' } : {}),
      },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299) {
      throw new ApiError(response.statusCode, text, `${method} ${path}`);
    }
    return text;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods`;

/** Ten Deployments, each with a ReplicaSet it owns: nothing reconciles them, they are the pods' owners. */
export async function ensureOwners(client: LoadClient): Promise<Owner[]> {
  const owners: Owner[] = [];
  for (let d = 0; d < DEPLOYMENTS; d++) {
    const deployment = `bench-app-${d}`;
    const hash = (0x5d8f7c9b4 + d * 0x1f3).toString(16).slice(0, 9);
    const replicaSet = `${deployment}-${hash}`;
    const labels = { app: deployment, 'app.kubernetes.io/name': deployment, tier: 'backend' };
    const template = {
      metadata: { labels },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
    };
    const deploymentUid = await getOrCreate(client, `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: deployment, labels },
      spec: { replicas: 0, selector: { matchLabels: labels }, template },
    });
    const rsLabels = { ...labels, 'pod-template-hash': hash };
    const replicaSetUid = await getOrCreate(client, `/apis/apps/v1/namespaces/${NAMESPACE}/replicasets`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: replicaSet,
        labels: rsLabels,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: deployment,
            uid: deploymentUid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: 0,
        selector: { matchLabels: rsLabels },
        template: { ...template, metadata: { labels: rsLabels } },
      },
    });
    owners.push({ deployment, replicaSet, replicaSetUid, hash });
  }
  return owners;
}

async function getOrCreate(
  client: LoadClient,
  collection: string,
  body: { metadata: { name: string; [field: string]: unknown }; [field: string]: unknown },
): Promise<string> {
  try {
    const text = await client.request('GET', `${collection}/${body.metadata.name}`);
    return (JSON.parse(text) as { metadata: { uid: string } }).metadata.uid;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const created = await client.request('POST', collection, body);
  return (JSON.parse(created) as { metadata: { uid: string } }).metadata.uid;
}

/** The owner of pod i, and its name: pods are spread evenly over the ReplicaSets. */
export function podName(owners: readonly Owner[], i: number): { name: string; owner: Owner } {
  const owner = owners[i % owners.length] as Owner;
  return { name: `${owner.replicaSet}-${String(i).padStart(5, '0')}`, owner };
}

export function podManifest(name: string, owner: Owner, i: number): unknown {
  const labels = {
    app: owner.deployment,
    'app.kubernetes.io/name': owner.deployment,
    'app.kubernetes.io/instance': `${owner.deployment}-prod`,
    'app.kubernetes.io/version': '1.14.2',
    'app.kubernetes.io/part-of': 'bench-shop',
    tier: 'backend',
    'pod-template-hash': owner.hash,
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NAMESPACE,
      labels,
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        'kubectl.kubernetes.io/restartedAt': '2026-07-01T09:30:00Z',
        'checksum/config': '4f3b9c2a7e1d8f6a5b0c9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: owner.replicaSet,
          uid: owner.replicaSetUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      nodeName: `node-${String(i % 50).padStart(2, '0')}`,
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'app',
          image: `registry.example.com/shop/${owner.deployment}:1.14.2`,
          args: ['--port=8080', '--metrics-port=9090', '--log-level=info'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'GOMAXPROCS', value: '2' },
            { name: 'DATABASE_URL', value: 'postgres://shop@db.shop.svc:5432/shop' },
          ],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 10 },
          livenessProbe: {
            httpGet: { path: '/healthz', port: 8080 },
            periodSeconds: 20,
            failureThreshold: 3,
          },
          volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }],
        },
        {
          name: 'proxy',
          image: 'registry.example.com/mesh/proxy:2.3.0',
          args: ['--upstream=127.0.0.1:8080', '--listen=:15001'],
          ports: [{ name: 'proxy', containerPort: 15001, protocol: 'TCP' }],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
        },
      ],
      volumes: [{ name: 'config', configMap: { name: `${owner.deployment}-config` } }],
    },
  };
}

/** A kubelet's status for a started pod: Running, both containers started, ready or not. */
export function podStatus(i: number, ready: boolean, at: string): unknown {
  const truth = ready ? 'True' : 'False';
  const started = '2026-07-01T09:30:05Z';
  const container = (name: string, image: string) => ({
    name,
    image,
    imageID: `${image}@sha256:${'0'.repeat(63)}${i % 10}`,
    containerID: `containerd://${i.toString(16).padStart(8, '0')}${name === 'app' ? 'a' : 'b'}${'0'.repeat(55)}`,
    ready,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: started } },
  });
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    status: {
      phase: 'Running',
      hostIP: `192.168.0.${i % 50}`,
      podIP: ip,
      podIPs: [{ ip }],
      startTime: started,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: started },
        { type: 'Initialized', status: 'True', lastTransitionTime: started },
        { type: 'Ready', status: truth, lastTransitionTime: at },
        { type: 'ContainersReady', status: truth, lastTransitionTime: at },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
      ],
      containerStatuses: [
        container('app', 'registry.example.com/shop/app:1.14.2'),
        container('proxy', 'registry.example.com/mesh/proxy:2.3.0'),
      ],
    },
  };
}

const MERGE_PATCH = 'application/merge-patch+json';

/** Creates pod i and writes its Running status, ready or not. */
export async function createPod(
  client: LoadClient,
  owners: readonly Owner[],
  i: number,
  ready = true,
): Promise<void> {
  const { name, owner } = podName(owners, i);
  await client.request('POST', podsPath, podManifest(name, owner, i));
  await client.request(
    'PATCH',
    `${podsPath}/${name}/status`,
    podStatus(i, ready, '2026-07-01T09:30:10Z'),
    MERGE_PATCH,
  );
}

/**
 * One status update of a burst: the pod turns unready (a readiness probe failing) or ready again. The
 * pods are shared by every contender of a size, so bursts alternate: each is one transition per pod.
 */
export async function setReadiness(
  client: LoadClient,
  owners: readonly Owner[],
  i: number,
  ready: boolean,
): Promise<Timed> {
  const { name } = podName(owners, i);
  const sentAt = nowMs();
  await client.request(
    'PATCH',
    `${podsPath}/${name}/status`,
    podStatus(i, ready, new Date().toISOString()),
    MERGE_PATCH,
  );
  return { name, sentAt, respondedAt: nowMs() };
}

/** Deletes pod i at once (no kubelet would finish a graceful deletion). */
export async function deletePod(client: LoadClient, owners: readonly Owner[], i: number): Promise<Timed> {
  const { name } = podName(owners, i);
  const sentAt = nowMs();
  await client.request('DELETE', `${podsPath}/${name}?gracePeriodSeconds=0`);
  return { name, sentAt, respondedAt: nowMs() };
}

/** Names of the pods in the namespace, read in pages of 5,000 (partial object metadata would do too). */
export async function podNames(client: LoadClient): Promise<string[]> {
  const names: string[] = [];
  let token = '';
  do {
    const text = await client.request(
      'GET',
      `${podsPath}?limit=5000${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
    );
    const page = JSON.parse(text) as {
      metadata: { continue?: string };
      items: { metadata: { name: string } }[];
    };
    for (const pod of page.items) names.push(pod.metadata.name);
    token = page.metadata.continue ?? '';
  } while (token);
  return names;
}

/** The JSON size of pod i as the API server serves it (status included). */
export async function podJsonBytes(client: LoadClient, owners: readonly Owner[], i: number): Promise<number> {
  return Buffer.byteLength(await client.request('GET', `${podsPath}/${podName(owners, i).name}`));
}

export async function deleteByName(client: LoadClient, name: string): Promise<void> {
  try {
    await client.request('DELETE', `${podsPath}/${name}?gracePeriodSeconds=0`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}
