// A process run as the Deployment's securityContext runs a container, as far as this machine allows
// without a container engine: a mount namespace whose root is remounted read-only
// (readOnlyRootFilesystem), the numeric user 65532 (runAsNonRoot), no capabilities (drop ALL) and
// no_new_privs (allowPrivilegeEscalation: false).
import { execFile } from 'node:child_process';

export const RUN_AS = 65532;

const WRAPPER = [
  'mount -o remount,bind,ro / &&',
  `exec setpriv --reuid=${RUN_AS} --regid=${RUN_AS} --clear-groups`,
  '--inh-caps=-all --bounding-set=-all --no-new-privs "$@"',
].join(' ');

/** The command prefix: append the program and its arguments. */
export const RESTRICTED: readonly [string, ...string[]] = [
  'unshare',
  '--mount',
  '--propagation',
  'private',
  '--',
  'sh',
  '-c',
  WRAPPER,
  'sh',
];

/** Whether this machine lets us build that view (root, with mount namespaces): probed once. */
export async function restrictedAvailable(): Promise<boolean> {
  const [program, ...args] = RESTRICTED;
  return new Promise((resolve) => {
    execFile(program, [...args, 'true'], { timeout: 10_000 }, (err) => {
      resolve(err === null);
    });
  });
}
