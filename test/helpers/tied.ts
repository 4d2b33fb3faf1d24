import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * The command and arguments to spawn so that the process is SIGKILLed when the test worker that
 * started it dies (SIGINT to the run, a crash): util-linux setpriv sets the parent-death signal, then
 * execs the program under the same pid. Where setpriv is missing, the command runs as given.
 */
export function tiedToParent(command: string, args: readonly string[]): [string, string[]] {
  if (!existsSync(SETPRIV)) return [command, [...args]];
  return [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
}
