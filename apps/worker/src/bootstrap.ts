import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { RequestLogging } from '@hes/observability';

/** Builds the worker (BullMQ consumers). It serves /metrics only when WORKER_HTTP_PORT is set. */
export async function createWorkerApp(): Promise<INestApplication> {
  const { WorkerModule } = await import('./worker.module');
  const app = await NestFactory.create(WorkerModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.use(app.get(RequestLogging).handle);
  app.enableShutdownHooks();
  return app;
}
