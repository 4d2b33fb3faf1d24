// What holding N pods costs the local control plane: kube-apiserver's and etcd's memory (/proc) and
// etcd's database size (its JSON gateway's maintenance/status), so that a reader can tell whether a
// cluster's API server and etcd hold 100,000 of these pods. etcd refuses writes once its database
// passes --quota-backend-bytes (2 GiB by default); compaction frees revisions and defragmentation gives
// the freed pages back to the file.
import { etcdPost } from '../hack/cluster/etcd.ts';
import { procStats, workerPid } from './proc.ts';

export interface ControlPlaneFigures {
  apiServerRssMiB: number;
  apiServerPeakRssMiB: number;
  etcdRssMiB: number;
  etcdPeakRssMiB: number;
  /** The database file, and the part of it in use (the rest is free pages until a defragmentation). */
  etcdDbMiB: number;
  etcdDbInUseMiB: number;
}

export async function controlPlaneFigures(
  pids: { apiserver: number; etcd: number },
  etcdUrl: string,
): Promise<ControlPlaneFigures> {
  const mib = (bytes: number): number => bytes / 2 ** 20;
  const api = procStats(workerPid(pids.apiserver));
  const etcd = procStats(workerPid(pids.etcd));
  const status = (await etcdPost(etcdUrl, '/v3/maintenance/status')) as {
    dbSize?: string;
    dbSizeInUse?: string;
  };
  return {
    apiServerRssMiB: mib(api.rssBytes),
    apiServerPeakRssMiB: mib(api.peakRssBytes),
    etcdRssMiB: mib(etcd.rssBytes),
    etcdPeakRssMiB: mib(etcd.peakRssBytes),
    etcdDbMiB: mib(Number(status.dbSize ?? Number.NaN)),
    etcdDbInUseMiB: mib(Number(status.dbSizeInUse ?? Number.NaN)),
  };
}

/** Gives etcd's free pages back to the file system (after a compaction has freed them). */
export async function defragmentEtcd(etcdUrl: string): Promise<void> {
  await etcdPost(etcdUrl, '/v3/maintenance/defragment');
}
