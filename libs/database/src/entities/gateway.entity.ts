import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type TlsMode = 'verify' | 'pinned' | 'insecure';

/** A field gateway the head-end dials: an ABB G13 (HTTPS JSON) or an Omega iServer 2 (WebSocket JSON). */
@Entity({ name: 'gateways', schema: 'public' })
export class Gateway {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  name!: string;

  /** Name of the driver plugin that speaks to it, e.g. ABB_G13 or OMEGA_ISERVER2. */
  @Column({ type: 'varchar', length: 32 })
  driver!: string;

  /** Base URL: https://host:port for a G13, ws://host:port for an iServer 2. */
  @Column({ type: 'text' })
  endpoint!: string;

  /** verify: trust the system CAs or tlsCaPem; pinned: accept only tlsFingerprintSha256; insecure: accept any. */
  @Column({ name: 'tls_mode', type: 'varchar', length: 16, default: 'verify' })
  tlsMode!: TlsMode;

  @Column({ name: 'tls_ca_pem', type: 'text', nullable: true })
  tlsCaPem!: string | null;

  @Column({ name: 'tls_fingerprint_sha256', type: 'varchar', length: 95, nullable: true })
  tlsFingerprintSha256!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  username!: string | null;

  /** Encrypted with CredentialCipher; never the plain password. */
  @Column({ name: 'password_encrypted', type: 'text', nullable: true })
  passwordEncrypted!: string | null;

  /** Requests the head-end keeps in flight towards this gateway at most. */
  @Column({ name: 'max_in_flight', type: 'integer', default: 1 })
  maxInFlight!: number;

  @Column({ name: 'request_timeout_ms', type: 'integer', default: 10000 })
  requestTimeoutMs!: number;

  /** IANA zone the clocks behind this gateway keep; null = the head-end's TIME_ZONE. */
  @Column({ name: 'clock_time_zone', type: 'varchar', length: 64, nullable: true })
  clockTimeZone!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
