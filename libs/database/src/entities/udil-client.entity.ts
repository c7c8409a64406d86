import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An MDM system allowed to call the UDIL API (authorization_service username, password and code). */
@Entity({ name: 'udil_clients', schema: 'public' })
export class UdilClient {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  username!: string;

  /** scrypt hash; the password itself is never stored. */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  /** scrypt hash of the "code" header. */
  @Column({ name: 'code_hash', type: 'text' })
  codeHash!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'last_authorized_at', type: 'timestamptz', nullable: true })
  lastAuthorizedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
