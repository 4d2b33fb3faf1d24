/**
 * The client configuration cannot be used: a kubeconfig that does not parse, names what it does not
 * define, or asks for what we do not support; a missing explicit file; no configuration at all. The
 * message is one line that names the file or entry. main exits 2 on it (bad input).
 */
export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}
