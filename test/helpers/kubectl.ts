// kubectl of the control plane's own version (built with it by hack/cluster/build.sh), always pointed
// at the test control plane's admin kubeconfig.
import { execFile } from 'node:child_process';
import { inject } from 'vitest';
import { ensureBinaries } from '../../hack/cluster/binaries.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let binary: Promise<string> | undefined;

/** The kubectl binary's path; built with the control plane, so it is there after global setup. */
export function kubectlPath(): Promise<string> {
  binary ??= ensureBinaries().then((b) => b.kubectl);
  return binary;
}

/** Runs kubectl with the admin kubeconfig; never rejects for a non-zero exit (see `code`). */
export async function kubectl(args: string[], options: { input?: string } = {}): Promise<KubectlResult> {
  const path = await kubectlPath();
  return new Promise((resolve, reject) => {
    const child = execFile(
      path,
      ['--kubeconfig', inject('kubeconfig'), ...args],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(new Error(`kubectl ${args.join(' ')}: ${err.message}\n${stderr}`));
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like kubectl(), but rejects with kubectl's stderr unless it exits 0. */
export async function kubectlOk(args: string[], options: { input?: string } = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}
