import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UdilClient } from './udil-client.entity';

/** A privatekey issued by authorization_service; only its SHA-256 is kept. */
@Entity({ name: 'udil_private_keys', schema: 'public' })
export class UdilPrivateKey {
  @PrimaryColumn({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  @Index('udil_private_keys_client_idx')
  @Column({ name: 'client_id', type: 'uuid' })
  clientId!: string;

  @ManyToOne(() => UdilClient, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id' })
  client?: UdilClient;

  @Column({ name: 'issued_at', type: 'timestamptz', default: () => 'now()' })
  issuedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
