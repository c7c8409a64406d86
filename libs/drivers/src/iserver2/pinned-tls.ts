/**
 * TLS towards a unit whose certificate is pinned by its SHA-256 fingerprint (TLS mode "pinned"), and the
 * TLS options of the two other modes. Self-contained so that it can move into a driver kit shared with
 * the G13 driver.
 *
 * Why not `rejectUnauthorized: false` with a `checkServerIdentity`: Node calls `checkServerIdentity` only
 * when the chain verified, and ignores its answer when `rejectUnauthorized` is false, so a unit with a
 * self-signed certificate (the usual case) would be accepted whatever it presents. Here the TLS handshake
 * is completed first, the peer certificate compared with the pin, and only a matching socket is handed
 * to the caller: nothing (HTTP upgrade, login, command) is ever written to an impostor.
 */
import { createHash } from 'node:crypto';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { GatewayEndpoint } from '../driver.contract';

/** The unit presented a certificate other than the pinned one. */
export class CertificatePinMismatchError extends Error {
  constructor(
    readonly host: string,
    readonly presented: string,
  ) {
    super(`certificate of ${host} does not match the pinned SHA-256 fingerprint (presented ${presented})`);
    this.name = 'CertificatePinMismatchError';
  }
}

/** "AB:CD:…" or "abcd…" → "ABCD…" (hex, upper case, no separators). */
export function normalizeSha256Fingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

export function certificateSha256(certificate: Buffer): string {
  return createHash('sha256').update(certificate).digest('hex').toUpperCase();
}

export interface PinnedTlsTarget {
  host: string;
  port: number;
  /** Expected SHA-256 of the certificate (DER), any notation normalizeSha256Fingerprint reads. */
  pin: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Opens a TLS connection and resolves only once the handshake completed and the peer certificate's
 * SHA-256 equals the pin; otherwise the socket is destroyed before anything is written on it.
 */
export function connectPinnedTls(target: PinnedTlsTarget): Promise<tls.TLSSocket> {
  const pin = normalizeSha256Fingerprint(target.pin);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      // SNI carries host names only (RFC 6066), never an IP address.
      servername: isIP(target.host) ? undefined : target.host,
      // The chain is not trusted in this mode: the fingerprint is the trust.
      rejectUnauthorized: false,
    });
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      target.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      if (error) {
        socket.destroy();
        reject(error);
      } else resolve(socket);
    };
    const onError = (error: Error): void => settle(error);
    const onAbort = (): void => settle(new Error('TLS connection aborted by the caller'));
    const timer = setTimeout(
      () =>
        settle(
          new Error(`TLS handshake with ${target.host}:${target.port} took over ${target.timeoutMs} ms`),
        ),
      target.timeoutMs,
    );
    target.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      const presented = raw ? certificateSha256(raw) : 'none';
      settle(presented === pin ? null : new CertificatePinMismatchError(target.host, presented));
    });
  });
}

/**
 * An HTTPS agent for a pinned unit (the CGI extract): each connection is handed to the request only after
 * connectPinnedTls accepted it. Node's Agent takes a connection delivered later through the callback.
 */
export class PinnedTlsAgent extends https.Agent {
  constructor(
    private readonly pin: string,
    private readonly timeoutMs: number,
  ) {
    // Every connection is a full handshake (no resumed session without a certificate to check).
    super({ keepAlive: false, maxCachedSessions: 0 });
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    connectPinnedTls({
      host: options.host ?? 'localhost',
      port: Number(options.port ?? 443),
      pin: this.pin,
      timeoutMs: this.timeoutMs,
    }).then(
      (socket) => callback?.(null, socket),
      // On error the agent ignores the socket argument.
      (error: Error) => callback?.(error, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** The gateway's pin, or an error when the "pinned" mode has none. */
export function pinOf(gateway: GatewayEndpoint): string | undefined {
  if (gateway.tlsMode !== 'pinned') return undefined;
  const pin = normalizeSha256Fingerprint(gateway.tlsFingerprintSha256 ?? '');
  if (pin.length !== 64)
    throw new Error(`TLS mode "pinned" needs the certificate's SHA-256 fingerprint (64 hex digits)`);
  return pin;
}

/** TLS options of the verify and insecure modes (pinned goes through connectPinnedTls). */
export function verifyingTlsOptions(gateway: GatewayEndpoint): { rejectUnauthorized: boolean; ca?: string } {
  if (gateway.tlsMode === 'insecure') return { rejectUnauthorized: false };
  // verify: the system's CAs, or the gateway's own CA.
  return { rejectUnauthorized: true, ...(gateway.tlsCaPem ? { ca: gateway.tlsCaPem } : {}) };
}

const TLS_VERIFICATION_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** True for a refused certificate (wrong pin, untrusted chain, wrong name): repeating will not help. */
export function isCertificateRefusal(error: unknown): boolean {
  if (error instanceof CertificatePinMismatchError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_VERIFICATION_CODES.has(code);
}
