import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import {
  SELF_SIGNED_BACKDATE_MS,
  SELF_SIGNED_HOST,
  SELF_SIGNED_IPS,
  SELF_SIGNED_RSA_BITS,
  SELF_SIGNED_VALIDITY_MS,
} from './defaults.ts';

/** A serving certificate chain (leaf, then its CA) and the leaf's key, both PEM. */
export interface CertKeyPair {
  cert: string;
  key: string;
}

/**
 * Makes a throwaway CA and a serving certificate it signs, for `host` and `ips`: client-go's util/cert
 * GenerateSelfSignedCertKeyWithFixtures, which controller-runtime's metrics server falls back to when
 * it has no certificate files. Both keys RSA-2048, SHA-256 signatures, random serials in [1, 2^63-1);
 * valid from an hour before now for a year. CA: CN `<host>-ca@<unix seconds>`, CA:true, key usages
 * keyEncipherment, digitalSignature, keyCertSign. Leaf: CN `<host>@<unix seconds>`, serverAuth, SANs
 * DNS:host and each IP. The chain is what a client needs to verify the leaf; the key is PKCS#1 PEM.
 *
 * Node cannot sign certificates, so @peculiar/x509 builds them on Node's WebCrypto (loaded on first
 * use, with the reflect-metadata polyfill its dependency injection needs).
 */
export async function generateSelfSignedCertKey(
  options: { host?: string; ips?: readonly string[]; now?: () => number } = {},
): Promise<CertKeyPair> {
  const { host = SELF_SIGNED_HOST, ips = SELF_SIGNED_IPS, now = Date.now } = options;
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto);
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: SELF_SIGNED_RSA_BITS,
  };
  const generate = () => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const [caKeys, keys] = await Promise.all([generate(), generate()]);
  // Calendar time (the wall clock), not a monotonic one: validity is read by other machines.
  const issuedAt = now();
  const notBefore = new Date(issuedAt - SELF_SIGNED_BACKDATE_MS);
  const notAfter = new Date(notBefore.getTime() + SELF_SIGNED_VALIDITY_MS);
  const unixSeconds = Math.floor(issuedAt / 1000);

  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [`${host}-ca@${unixSeconds}`] }],
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [`${host}@${unixSeconds}`] }],
    issuer: ca.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: host },
        ...ips.map((ip) => ({ type: 'ip' as const, value: ip })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
    type: 'pkcs1',
    format: 'pem',
  });
  return { cert: `${leaf.toString('pem')}\n${ca.toString('pem')}\n`, key: String(key) };
}

/** A positive serial below 2^63 as minimal hex (DER integers have no leading zero byte), as client-go draws it. */
function serial(): string {
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  const hex = bytes.toString('hex').replace(/^(00)+/, '');
  return hex === '' ? '01' : hex;
}
