/**
 * Certificates for TLS tests: a private CA and a server certificate it signed (for 127.0.0.1 and
 * localhost), and a self-signed one. Keys come from node:crypto (fast); node-forge builds and signs the
 * X.509 certificates, which node:crypto cannot.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificate {
  key: string;
  cert: string;
  /** SHA-256 of the DER certificate, "AB:CD:…" as Node prints it. */
  fingerprint256: string;
}

function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function build(
  subject: string,
  keys: { privatePem: string; publicPem: string },
  issuer: { name: string; privatePem: string } | undefined,
  ca: boolean,
): TestCertificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = `0${Math.floor(Math.random() * 1e12).toString(16)}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer([{ name: 'commonName', value: issuer?.name ?? subject }]);
  cert.setExtensions(
    ca
      ? [
          { name: 'basicConstraints', cA: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              { type: 2, value: 'localhost' },
              { type: 7, ip: '127.0.0.1' },
            ],
          },
        ],
  );
  cert.sign(forge.pki.privateKeyFromPem(issuer?.privatePem ?? keys.privatePem), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  return { key: keys.privatePem, cert: pem, fingerprint256: new X509Certificate(pem).fingerprint256 };
}

/** A CA, a server certificate it signed, and a self-signed server certificate. */
export function testCertificates(): {
  ca: TestCertificate;
  signed: TestCertificate;
  selfSigned: TestCertificate;
} {
  const caKeys = keyPair();
  const ca = build('HES test CA', caKeys, undefined, true);
  const signed = build('127.0.0.1', keyPair(), { name: 'HES test CA', privatePem: caKeys.privatePem }, false);
  const selfSigned = build('127.0.0.1', keyPair(), undefined, false);
  return { ca, signed, selfSigned };
}
