// Side by side with kubectl: the same kubeconfig, environment and working directory handed to
// `kubectl auth whoami` and to the operator's own loading and client (fixtures/whoami.ts), each asking
// the API server who it is (a SelfSubjectReview).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { kubectlPath } from '../helpers/kubectl.ts';

export type Identity = { username: string; groups: string[] } | { error: string };

export interface ClientRun {
  /** The working directory of both processes; relative paths in the kubeconfig must not depend on it. */
  cwd: string;
  /** Environment on top of PATH and a fresh HOME (e.g. KUBECONFIG). */
  env?: Record<string, string>;
  kubeconfig?: string;
  /** --master for us, --server for kubectl. */
  master?: string;
}

const WHOAMI = join(import.meta.dirname, 'fixtures', 'whoami.ts');

function run(
  command: string,
  args: string[],
  run: ClientRun,
): Promise<{ code: number; stdout: string; stderr: string }> {
  // Our Node first on PATH: exec plugins named `node` are TypeScript files.
  const env = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: mkdtempSync(join(tmpdir(), 'home-')),
    ...run.env,
  };
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: run.cwd, env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** kubectl auth whoami -o json. */
export async function kubectlIdentity(r: ClientRun): Promise<Identity> {
  const args = ['auth', 'whoami', '-o', 'json'];
  if (r.kubeconfig) args.push('--kubeconfig', r.kubeconfig);
  if (r.master) args.push('--server', r.master);
  const result = await run(await kubectlPath(), args, r);
  if (result.code !== 0) return { error: result.stderr.trim().split('\n').at(-1) ?? `exit ${result.code}` };
  const review = JSON.parse(result.stdout) as {
    status?: { userInfo?: { username?: string; groups?: string[] } };
  };
  return { username: review.status?.userInfo?.username ?? '', groups: review.status?.userInfo?.groups ?? [] };
}

/** The operator's configuration loading and RestClient, in a process of its own. */
export async function ourIdentity(r: ClientRun): Promise<Identity> {
  const args = [WHOAMI];
  if (r.kubeconfig) args.push('--kubeconfig', r.kubeconfig);
  if (r.master) args.push('--master', r.master);
  const result = await run(process.execPath, args, r);
  try {
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Identity;
  } catch {
    return { error: `whoami exited ${result.code}: ${result.stderr.trim()}` };
  }
}

export async function bothIdentities(r: ClientRun): Promise<{ kubectl: Identity; ours: Identity }> {
  const [kubectl, ours] = await Promise.all([kubectlIdentity(r), ourIdentity(r)]);
  return { kubectl, ours };
}

/** `kubectl proxy --port=0` with the given kubeconfig; resolves with its URL once it serves. */
export async function kubectlProxy(kubeconfig: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(await kubectlPath(), ['proxy', '--port=0', '--kubeconfig', kubeconfig], {
    env: { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'home-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('kubectl proxy did not start'));
    }, 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /Starting to serve on (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl proxy exited ${code}`));
    });
  });
  return { url, child };
}
