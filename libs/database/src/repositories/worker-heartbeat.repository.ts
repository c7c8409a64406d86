import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { WorkerHeartbeat } from '../entities';

@Injectable()
export class WorkerHeartbeatRepository {
  constructor(@InjectRepository(WorkerHeartbeat) private readonly heartbeats: Repository<WorkerHeartbeat>) {}

  async record(beat: Omit<WorkerHeartbeat, 'lastSeenAt'>): Promise<void> {
    await this.heartbeats.upsert({ ...beat, lastSeenAt: new Date() }, ['workerId']);
  }

  /** Workers that consumed a heartbeat job since `since`. */
  seenSince(since: Date): Promise<WorkerHeartbeat[]> {
    return this.heartbeats.find({ where: { lastSeenAt: MoreThan(since) }, order: { lastSeenAt: 'DESC' } });
  }
}
