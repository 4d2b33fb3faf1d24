import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSignedCertKey } from './self-signed-certificate.ts';

/** The PEM blocks of a chain, in order. */
function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

describe("generateSelfSignedCertKey (client-go's GenerateSelfSignedCertKeyWithFixtures)", () => {
  it('makes a serving certificate for localhost and 127.0.0.1, signed by a CA it comes with', async () => {
    const now = Date.UTC(2026, 0, 15, 12, 0, 0);
    const { cert, key } = await generateSelfSignedCertKey({ now: () => now });
    const [leaf, ca, ...more] = certificates(cert);
    if (!leaf || !ca) throw new Error('expected a leaf and a CA');
    expect(more).toEqual([]);

    expect(ca.subject).toBe(`CN=localhost-ca@${String(now / 1000)}`);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.subject).toBe(`CN=localhost@${String(now / 1000)}`);
    expect(leaf.issuer).toBe(ca.subject);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    for (const c of [leaf, ca]) {
      expect(new Date(c.validFrom).getTime()).toBe(now - 3_600_000);
      expect(new Date(c.validTo).getTime()).toBe(now - 3_600_000 + 365 * 24 * 3_600_000);
      expect(c.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(BigInt(`0x${c.serialNumber}`)).toBeGreaterThan(0n);
      expect(BigInt(`0x${c.serialNumber}`)).toBeLessThan(2n ** 63n);
    }
    expect(key.startsWith('-----BEGIN RSA PRIVATE KEY-----')).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
  });

  it('makes a new pair each time', async () => {
    const [a, b] = await Promise.all([generateSelfSignedCertKey(), generateSelfSignedCertKey()]);
    expect(a.key).not.toBe(b.key);
    expect(certificates(a.cert)[0]?.serialNumber).not.toBe(certificates(b.cert)[0]?.serialNumber);
  });
});
