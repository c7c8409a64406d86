import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { WorkerHeartbeatRepository, isDatabaseUnavailable } from '@hes/database';
import { QueueHealthIndicator } from '@hes/queue';
import { DATABASE_RETRY_AFTER_SECONDS } from '../common/request-failure';

@ApiTags('health')
// Without the request-text guard (RequestTextGuard): no health route reads a path parameter, the query or
// the body, so there is nothing of the request for the rule to refuse, and a probe is answered whatever its
// query string holds (test/api-client-errors.e2e-spec.ts) without Nest's guard chain on every probe.
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

  @Get('live')
  @ApiOperation({ summary: 'The api process answers (nothing else is checked): a liveness probe' })
  @ApiOkResponse({ description: '{"status":"ok"}' })
  live() {
    return { status: 'ok' };
  }

  @Get('worker')
  @ApiOperation({ summary: 'Workers that consumed a heartbeat job recently; 503 when none did' })
  @ApiOkResponse({ description: 'At least one worker is consuming jobs' })
  @ApiServiceUnavailableResponse({
    description: 'No worker consumed a heartbeat job in three intervals, or the database is unreachable',
  })
  async workers(@Res({ passthrough: true }) response: Response) {
    const windowSeconds = this.config.HEARTBEAT_INTERVAL_SECONDS * 3;
    let seen: Awaited<ReturnType<WorkerHeartbeatRepository['seenSince']>>;
    try {
      seen = await this.heartbeats.seenSince(new Date(Date.now() - windowSeconds * 1000));
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      // The heartbeats are in the database: without it nothing can be said about the workers.
      response.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      throw new ServiceUnavailableException({
        status: 'error',
        windowSeconds,
        workers: [],
        error: "database: unavailable, the workers' heartbeats cannot be read",
      });
    }
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
