import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Last time a worker process consumed a heartbeat job: proof that the queue path works end to end. */
@Entity({ name: 'worker_heartbeats', schema: 'public' })
export class WorkerHeartbeat {
  @PrimaryColumn({ name: 'worker_id', type: 'varchar', length: 128 })
  workerId!: string;

  @Column({ type: 'varchar', length: 255 })
  hostname!: string;

  @Column({ type: 'integer' })
  pid!: number;

  @Column({ name: 'queue_backend', type: 'varchar', length: 16 })
  queueBackend!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;
}
