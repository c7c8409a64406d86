import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { WorkerHeartbeatRepository } from '@hes/database';
import { JobHandler, JobName, ScheduleSupervisor } from '@hes/queue';
import { PROCESS_ID } from '@hes/transactions';

/**
 * Keeps a heartbeat job scheduled and records, each time a worker consumes it, which worker did.
 * GET /health/worker reads the record: it proves that jobs flow from the queue backend to a worker.
 */
@Injectable()
export class WorkerHeartbeatJob implements OnApplicationBootstrap {
  readonly workerId = PROCESS_ID;
  private readonly startedAt = new Date();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly supervisor: ScheduleSupervisor,
    private readonly heartbeats: WorkerHeartbeatRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.supervisor.keep(
      'worker-heartbeat',
      this.config.HEARTBEAT_INTERVAL_SECONDS * 1000,
      JobName.WorkerHeartbeat,
      {
        scheduledBy: this.workerId,
      },
    );
  }

  @JobHandler(JobName.WorkerHeartbeat)
  async beat(): Promise<void> {
    await this.heartbeats.record({
      workerId: this.workerId,
      hostname: hostname(),
      pid: process.pid,
      queueBackend: this.config.QUEUE_BACKEND,
      startedAt: this.startedAt,
    });
  }
}
