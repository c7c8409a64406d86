import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@hes/observability';
import { JobQueueRepository } from '@hes/queue';

/** Exposes the number of jobs per queue and state, read from the queue backend at each scrape. */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  private readonly logger = new Logger(QueueMetrics.name);

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly queues: JobQueueRepository,
  ) {}

  onModuleInit(): void {
    const queues = this.queues;
    const logger = this.logger;
    new Gauge({
      name: 'hes_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        try {
          for (const [queue, counts] of Object.entries(await queues.counts())) {
            for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
          }
        } catch (error) {
          // An unreachable queue backend shows in /health; the scrape still answers.
          logger.warn(`queue counts unavailable: ${(error as Error).message}`);
        }
      },
    });
  }
}
