import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { WorkerHeartbeatRepository } from '@hes/database';
import { QueueHealthIndicator } from '@hes/queue';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly queue: QueueHealthIndicator,
    private readonly heartbeats: WorkerHeartbeatRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Database and queue backend (Redis) reachability; 503 when either is down' })
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 1500 }),
      () => this.queue.check(),
    ]);
  }

  @Get('worker')
  @ApiOperation({ summary: 'Workers that consumed a heartbeat job recently; 503 when none did' })
  @ApiOkResponse({ description: 'At least one worker is consuming jobs' })
  @ApiServiceUnavailableResponse({ description: 'No worker consumed a heartbeat job in three intervals' })
  async workers() {
    const windowSeconds = this.config.HEARTBEAT_INTERVAL_SECONDS * 3;
    const seen = await this.heartbeats.seenSince(new Date(Date.now() - windowSeconds * 1000));
    const body = {
      status: seen.length > 0 ? 'ok' : 'error',
      windowSeconds,
      workers: seen.map((w) => ({
        workerId: w.workerId,
        queueBackend: w.queueBackend,
        startedAt: w.startedAt.toISOString(),
        lastSeenAt: w.lastSeenAt.toISOString(),
      })),
    };
    if (seen.length === 0) throw new ServiceUnavailableException(body);
    return body;
  }
}
