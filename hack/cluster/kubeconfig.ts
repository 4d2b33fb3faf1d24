export interface KubeconfigSpec {
  name: string;
  server: string;
  caPem: string;
  token: string;
}

/** A kubeconfig with one cluster, one token user and one current context, all called `name`. */
export function renderKubeconfig({ name, server, caPem, token }: KubeconfigSpec): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
  - name: ${name}
    cluster:
      server: ${server}
      certificate-authority-data: ${ca}
users:
  - name: ${name}-admin
    user:
      token: ${token}
contexts:
  - name: ${name}
    context:
      cluster: ${name}
      user: ${name}-admin
current-context: ${name}
`;
}
