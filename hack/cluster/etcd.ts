// etcd's JSON gateway (/v3/...) lets us read the revision and compact without etcdctl or gRPC.

export function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=default',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Tests throw the data away; fsync would only slow every write.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

interface ResponseHeader {
  header?: { revision?: string };
}

/** POSTs to etcd's v3 JSON gateway (`/v3/kv/range`, `/v3/maintenance/status`, ...); rejects on a non-2xx answer. */
export async function etcdPost(clientUrl: string, path: string, body: unknown = {}): Promise<unknown> {
  const res = await fetch(`${clientUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

export async function etcdHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`);
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

/** The store's current revision: the newest resourceVersion the API server can have handed out. */
export async function etcdRevision(clientUrl: string): Promise<number> {
  // A range over the single key "\0" is the cheapest request that returns a header.
  const res = (await etcdPost(clientUrl, '/v3/kv/range', { key: 'AA==' })) as ResponseHeader;
  const revision = Number(res.header?.revision);
  if (!Number.isSafeInteger(revision) || revision <= 0) {
    throw new Error(`etcd: no revision in range response: ${JSON.stringify(res)}`);
  }
  return revision;
}

/** Compacts to the current revision, so every older resourceVersion answers 410 Gone. */
export async function compactEtcd(clientUrl: string): Promise<number> {
  const revision = await etcdRevision(clientUrl);
  await etcdPost(clientUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
