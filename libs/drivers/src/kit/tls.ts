import type { Duplex } from 'node:stream';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { TLSSocket, connect as connectTls } from 'node:tls';
import { DriverError, GatewayEndpoint } from '../driver.contract';

/**
 * TLS per gateway, shared by every driver that speaks TLS (HTTPS, wss): `verify` (system CAs or the
 * gateway's CA), `pinned` (SHA-256 of the certificate, checked on every handshake before anything is
 * written) or `insecure` (a self-signed certificate accepted explicitly).
 */

/** "3a:bc:…" or "3ABC…" → "3ABC…". */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/** True when the socket's peer certificate has the pinned SHA-256 fingerprint. */
export function certificateMatchesPin(socket: unknown, pin: string): boolean {
  if (!(socket instanceof TLSSocket)) return false;
  const certificate = socket.getPeerCertificate();
  return Boolean(certificate?.fingerprint256) && normalizeFingerprint(certificate.fingerprint256) === pin;
}

export const PIN_MISMATCH = 'gateway certificate does not match the pinned SHA-256 fingerprint';

/** Node's certificate verification error codes (an authentication failure, never retried). */
export const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * True when a connection error is a failed certificate check (verification or pin): repeating will not
 * help. Not an `instanceof Error` test: Node's own TLS errors may come from another realm (jest's sandbox).
 */
export function isCertificateError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as Partial<NodeJS.ErrnoException>;
  return TLS_VERIFY_CODES.has(code ?? '') || /certificate/i.test(message ?? '');
}

export interface GatewayTlsTarget {
  host: string;
  port: number;
  /** SNI name; by default the host when it is a name (RFC 6066: never an IP address). */
  servername?: string;
  /** SHA-256 of the certificate (normalized): the connection is handed over only when it matches. */
  pin?: string;
  /** Verify the chain (system CAs or `ca`); ignored (off) when a pin decides. */
  rejectUnauthorized: boolean;
  ca?: string;
}

/**
 * Opens a TLS connection to a gateway and hands it to `callback` only after the handshake completed and,
 * for a pinned gateway, the certificate's SHA-256 matched: nothing (credentials included) is ever written
 * to a peer presenting another certificate. No TLS session is resumed: every connection presents its
 * certificate. Returns the socket at once, so a caller may end the attempt while it is under way. Both
 * listeners are removed once one fired: a kept-alive socket carries none of them on reuse.
 */
export function connectGatewayTls(
  target: GatewayTlsTarget,
  callback: (error: Error | null, socket: TLSSocket) => void,
): TLSSocket {
  const socket = connectTls({
    host: target.host,
    port: target.port,
    servername: target.servername || (target.host && !isIP(target.host) ? target.host : undefined),
    rejectUnauthorized: target.pin ? false : target.rejectUnauthorized,
    ca: target.ca,
  });
  const onSecure = () => {
    socket.off('error', onError);
    if (!target.pin || certificateMatchesPin(socket, target.pin)) callback(null, socket);
    else {
      socket.destroy();
      callback(new Error(PIN_MISMATCH), socket);
    }
  };
  const onError = (error: Error) => {
    socket.off('secureConnect', onSecure);
    callback(error, socket);
  };
  socket.once('secureConnect', onSecure);
  socket.once('error', onError);
  return socket;
}

/**
 * An HTTPS agent for a pinned gateway (`connectGatewayTls`): a connection is handed to a request only after
 * its handshake completed and the certificate's SHA-256 matched. Works for `https.request` and as the
 * `agent` of a `ws` WebSocket.
 */
export class PinnedAgent extends https.Agent {
  readonly pin: string;
  constructor(options: https.AgentOptions, pin: string) {
    super({ ...options, rejectUnauthorized: false, maxCachedSessions: 0 });
    this.pin = normalizeFingerprint(pin);
  }

  // Node's Agent accepts a connection delivered later through the callback (return value undefined).
  override createConnection(
    options: https.RequestOptions,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    connectGatewayTls(
      {
        host: options.host ?? '',
        port: Number(options.port),
        servername: options.servername ?? undefined,
        pin: this.pin,
        rejectUnauthorized: false,
      },
      (error, socket) => callback?.(error, socket),
    );
    return undefined;
  }
}

export interface TlsAgentSettings {
  keepAlive?: boolean;
  maxSockets?: number;
}

/**
 * The HTTPS agent of a gateway for its TLS mode (also usable as a `ws` agent). Refuses, as a DriverError
 * naming the gateway, a pinned mode without a fingerprint.
 */
export function tlsAgentFor(gateway: GatewayEndpoint, settings: TlsAgentSettings = {}): https.Agent {
  const base: https.AgentOptions = { keepAlive: settings.keepAlive, maxSockets: settings.maxSockets };
  switch (gateway.tlsMode) {
    case 'pinned':
      if (!gateway.tlsFingerprintSha256)
        throw new DriverError(
          'refused',
          `gateway ${gateway.name}: TLS mode "pinned" needs a certificate fingerprint`,
          false,
        );
      return new PinnedAgent(base, gateway.tlsFingerprintSha256);
    case 'insecure':
      return new https.Agent({ ...base, rejectUnauthorized: false });
    default:
      return new https.Agent({
        ...base,
        rejectUnauthorized: true,
        ca: gateway.tlsCaPem ? gateway.tlsCaPem : undefined,
      });
  }
}
