import { createRequire } from 'node:module';
import type * as YAML from 'yaml';
import type { Tags } from 'yaml';
import {
  emptyConfig,
  type AuthInfo,
  type AuthProviderConfig,
  type Cluster,
  type Config,
  type Context,
  type ExecConfig,
  type ExecEnvVar,
} from './api.ts';
import { KubeconfigError } from './errors.ts';

// yaml is loaded with the first kubeconfig file read: the in-cluster path reads none.
const require = createRequire(import.meta.url);
const yaml = (): typeof YAML => require('yaml') as typeof YAML;

/**
 * Decodes kubeconfig text (YAML or JSON) as clientcmd's Load does, every entry marked with `origin`
 * (LocationOfOrigin). Empty text is an empty config. Duplicate names in one list, a wrong
 * apiVersion/kind and values of the wrong type are errors; keys outside the schema are recorded in
 * `unknownFields`, as client-go ignores them.
 * Sources: client-go tools/clientcmd/loader.go Load, LoadFromFile; api/v1/conversion.go (duplicate
 * names); api/v1/defaults.go SetDefaults_ExecConfig.
 * @throws KubeconfigError
 */
export function decodeKubeconfig(text: string, origin: string): Config {
  const fail = (what: string): never => {
    throw new KubeconfigError(`kubeconfig ${origin}: ${what}`);
  };
  let doc: unknown;
  let raw: unknown;
  try {
    // Typed fields: every plain scalar is kept as written (a token of digits stays a string, as the
    // Go decoder keeps it for a string field); booleans are parsed per field below.
    doc = yaml().parse(text, { version: '1.1', customTags: stringsOnly });
    // Extensions are free-form JSON for plugins: decoded with YAML 1.2's ordinary types.
    raw = yaml().parse(text);
  } catch (err) {
    return fail(`not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  const config = emptyConfig();
  if (doc === null || doc === undefined) return config;
  const top = object(doc, 'the document', fail);
  const rawTop = (raw ?? {}) as Record<string, unknown>;
  const apiVersion = str(top.apiVersion, 'apiVersion', fail);
  if (apiVersion !== '' && apiVersion !== 'v1') fail(`apiVersion "${apiVersion}" is not v1`);
  const kind = str(top.kind, 'kind', fail);
  if (kind !== '' && kind !== 'Config') fail(`kind "${kind}" is not Config`);
  config.currentContext = str(top['current-context'], 'current-context', fail);

  named(top.clusters, rawTop.clusters, 'clusters', 'cluster', fail, (name, body, rawBody, at) => {
    const { known, unknown } = fields(body, CLUSTER_KEYS, at, fail);
    const cluster: Cluster = {
      server: str(known.server, `${at}.server`, fail),
      tlsServerName: str(known['tls-server-name'], `${at}.tls-server-name`, fail),
      insecureSkipTlsVerify: bool(known['insecure-skip-tls-verify'], `${at}.insecure-skip-tls-verify`, fail),
      certificateAuthority: str(known['certificate-authority'], `${at}.certificate-authority`, fail),
      certificateAuthorityData: bytes(
        known['certificate-authority-data'],
        `${at}.certificate-authority-data`,
        fail,
      ),
      proxyUrl: str(known['proxy-url'], `${at}.proxy-url`, fail),
      disableCompression: bool(known['disable-compression'], `${at}.disable-compression`, fail),
      extensions: extensions(known.extensions, field(rawBody, 'extensions'), `${at}.extensions`, fail),
      locationOfOrigin: origin,
      unknownFields: unknown,
    };
    if (config.clusters.has(name)) fail(`duplicate cluster name "${name}"`);
    config.clusters.set(name, cluster);
  });

  named(top.users, rawTop.users, 'users', 'user', fail, (name, body, _rawBody, at) => {
    const { known, unknown } = fields(body, AUTH_INFO_KEYS, at, fail);
    const user: AuthInfo = {
      clientCertificate: str(known['client-certificate'], `${at}.client-certificate`, fail),
      clientCertificateData: bytes(known['client-certificate-data'], `${at}.client-certificate-data`, fail),
      clientKey: str(known['client-key'], `${at}.client-key`, fail),
      clientKeyData: bytes(known['client-key-data'], `${at}.client-key-data`, fail),
      token: str(known.token, `${at}.token`, fail),
      tokenFile: str(known.tokenFile, `${at}.tokenFile`, fail),
      impersonate: str(known.as, `${at}.as`, fail),
      impersonateUid: str(known['as-uid'], `${at}.as-uid`, fail),
      impersonateGroups: strList(known['as-groups'], `${at}.as-groups`, fail),
      impersonateUserExtra: extra(known['as-user-extra'], `${at}.as-user-extra`, fail),
      username: str(known.username, `${at}.username`, fail),
      password: str(known.password, `${at}.password`, fail),
      authProvider: authProvider(known['auth-provider'], `${at}.auth-provider`, fail),
      exec: exec(known.exec, `${at}.exec`, fail),
      locationOfOrigin: origin,
      unknownFields: unknown,
    };
    if (config.authInfos.has(name)) fail(`duplicate user name "${name}"`);
    config.authInfos.set(name, user);
  });

  named(top.contexts, rawTop.contexts, 'contexts', 'context', fail, (name, body, _rawBody, at) => {
    const { known, unknown } = fields(body, CONTEXT_KEYS, at, fail);
    const context: Context = {
      cluster: str(known.cluster, `${at}.cluster`, fail),
      user: str(known.user, `${at}.user`, fail),
      namespace: str(known.namespace, `${at}.namespace`, fail),
      locationOfOrigin: origin,
      unknownFields: unknown,
    };
    if (config.contexts.has(name)) fail(`duplicate context name "${name}"`);
    config.contexts.set(name, context);
  });
  return config;
}

type Fail = (what: string) => never;

const CLUSTER_KEYS = new Set([
  'server',
  'tls-server-name',
  'insecure-skip-tls-verify',
  'certificate-authority',
  'certificate-authority-data',
  'proxy-url',
  'disable-compression',
  'extensions',
]);
const AUTH_INFO_KEYS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'as',
  'as-uid',
  'as-groups',
  'as-user-extra',
  'username',
  'password',
  'auth-provider',
  'exec',
  'extensions',
]);
const CONTEXT_KEYS = new Set(['cluster', 'user', 'namespace', 'extensions']);
const EXEC_KEYS = new Set([
  'command',
  'args',
  'env',
  'apiVersion',
  'installHint',
  'provideClusterInfo',
  'interactiveMode',
]);

/** YAML 1.1 without numbers and booleans: plain scalars stay the strings they are written as. */
function stringsOnly(tags: Tags): Tags {
  return tags.filter((tag) => typeof tag === 'string' || !/:(int|float|bool)$/.test(tag.tag));
}

/** The v1 named lists (`- name: x\n  cluster: {...}`), each body handed to `each`. */
function named(
  list: unknown,
  rawList: unknown,
  key: string,
  bodyKey: string,
  fail: Fail,
  each: (name: string, body: unknown, rawBody: unknown, at: string) => void,
): void {
  if (list === null || list === undefined) return;
  if (!Array.isArray(list)) fail(`${key} is not a list`);
  (list as unknown[]).forEach((item, i) => {
    const entry = object(item, `${key}[${i}]`, fail);
    const name = str(entry.name, `${key}[${i}].name`, fail);
    const at = `${bodyKey} "${name}"`;
    const rawEntry = Array.isArray(rawList) ? (rawList[i] as Record<string, unknown> | undefined) : undefined;
    each(name, entry[bodyKey] ?? {}, field(rawEntry, bodyKey), at);
  });
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function object(value: unknown, at: string, fail: Fail): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Buffer.isBuffer(value)) fail(`${at} is not a map`);
  return value as Record<string, unknown>;
}

function fields(
  value: unknown,
  keys: ReadonlySet<string>,
  at: string,
  fail: Fail,
): { known: Record<string, unknown>; unknown: string[] } {
  const body = object(value, at, fail);
  return { known: body, unknown: Object.keys(body).filter((k) => !keys.has(k)) };
}

function str(value: unknown, at: string, fail: Fail): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return fail(`${at} is not a string`);
  return value;
}

/** YAML 1.1 booleans, as the Go decoder reads them into a bool field. */
function bool(value: unknown, at: string, fail: Fail): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') {
    if (/^(true|True|TRUE|yes|Yes|YES|on|On|ON|y|Y)$/.test(value)) return true;
    if (/^(false|False|FALSE|no|No|NO|off|Off|OFF|n|N)$/.test(value)) return false;
  }
  return fail(`${at} is not true or false`);
}

/** A []byte field: standard base64, as encoding/json decodes it (newlines ignored). */
function bytes(value: unknown, at: string, fail: Fail): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  const text = str(value, at, fail).replace(/[\r\n]/g, '');
  if (text === '') return undefined;
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail(`${at} is not base64`);
  return Buffer.from(text, 'base64');
}

function strList(value: unknown, at: string, fail: Fail): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(`${at} is not a list`);
  return (value as unknown[]).map((v, i) => str(v, `${at}[${i}]`, fail));
}

function extra(value: unknown, at: string, fail: Fail): Record<string, string[]> {
  const body = object(value, at, fail);
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, strList(v, `${at}.${k}`, fail)]));
}

function authProvider(value: unknown, at: string, fail: Fail): AuthProviderConfig | undefined {
  if (value === null || value === undefined) return undefined;
  const body = object(value, at, fail);
  const config = object(body.config, `${at}.config`, fail);
  return {
    name: str(body.name, `${at}.name`, fail),
    config: Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k, str(v, `${at}.config.${k}`, fail)]),
    ),
  };
}

function exec(value: unknown, at: string, fail: Fail): ExecConfig | undefined {
  if (value === null || value === undefined) return undefined;
  const { known, unknown } = fields(value, EXEC_KEYS, at, fail);
  const apiVersion = str(known.apiVersion, `${at}.apiVersion`, fail);
  let interactiveMode = str(known.interactiveMode, `${at}.interactiveMode`, fail);
  // SetDefaults_ExecConfig: v1 must say it; the older versions default to IfAvailable.
  if (interactiveMode === '' && apiVersion !== 'client.authentication.k8s.io/v1' && apiVersion !== '') {
    interactiveMode = 'IfAvailable';
  }
  if (interactiveMode !== '' && !['Never', 'IfAvailable', 'Always'].includes(interactiveMode)) {
    fail(`${at}.interactiveMode "${interactiveMode}" is not Never, IfAvailable or Always`);
  }
  const env = known.env === null || known.env === undefined ? [] : known.env;
  if (!Array.isArray(env)) fail(`${at}.env is not a list`);
  return {
    command: str(known.command, `${at}.command`, fail),
    args: strList(known.args, `${at}.args`, fail),
    env: (env as unknown[]).map((e, i): ExecEnvVar => {
      const entry = object(e, `${at}.env[${i}]`, fail);
      return {
        name: str(entry.name, `${at}.env[${i}].name`, fail),
        value: str(entry.value, `${at}.env[${i}].value`, fail),
      };
    }),
    apiVersion,
    installHint: str(known.installHint, `${at}.installHint`, fail),
    provideClusterInfo: bool(known.provideClusterInfo, `${at}.provideClusterInfo`, fail),
    interactiveMode: interactiveMode as ExecConfig['interactiveMode'],
    unknownFields: unknown,
  };
}

/** Named extensions: `- name: x\n  extension: {...}`, the extension kept as plain JSON. */
function extensions(value: unknown, raw: unknown, at: string, fail: Fail): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value === null || value === undefined) return out;
  if (!Array.isArray(value)) fail(`${at} is not a list`);
  (value as unknown[]).forEach((item, i) => {
    const name = str(object(item, `${at}[${i}]`, fail).name, `${at}[${i}].name`, fail);
    if (out.has(name)) fail(`${at}: duplicate name "${name}"`);
    out.set(name, field(Array.isArray(raw) ? raw[i] : undefined, 'extension') ?? null);
  });
  return out;
}
