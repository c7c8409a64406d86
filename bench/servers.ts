/**
 * The reference servers of `bench:api`, each a child process of its own (`node servers.js <kind> <port>`):
 *
 * - `express`, `fastify`: a bare server of the framework, nothing but `GET /health/live` → {"status":"ok"}
 *   (and the framework's own 404 for anything else);
 * - `nest-express`, `nest-fastify`: a Nest application with that one route and nothing else (no middleware,
 *   no interceptor, no logger), on each HTTP adapter;
 * - `raw`: bare Express answering with the reads' query and serialisation alone, called as the api calls them
 *   (`TransactionAcceptanceService.statusJson`, `UdilTableReader.readUdilJson`), and with the JavaScript
 *   formatter the api used before (`?formatter=js`): no authentication, no request parsing, no Nest.
 *   Environment: DATABASE_URL, TIME_ZONE, BENCH_CLIENT_ID, BENCH_TRANSACTIONID, BENCH_DEVICE, BENCH_FROM,
 *   BENCH_TO (ISO instants).
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import fastify from 'fastify';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../libs/config/src';
import { createDataSourceOptions } from '../libs/database/src/data-source-options';
import type { DriverRegistry } from '../libs/drivers/src';
import type { JobQueueRepository } from '../libs/queue/src';
import { UdilTableReader } from '../libs/readings/src/udil-table-reader';
import { TransactionAcceptanceService } from '../libs/transactions/src/transaction-acceptance.service';
import { TransactionStatusRepository } from '../libs/transactions/src/transaction-status.repository';
import { formatUdilRecord } from '../libs/udil/src/udil-records';
import { jsonArrayBytes } from '../libs/udil/src/udil-response';

const LIVE = { status: 'ok' };

@Controller('health')
class LiveController {
  @Get('live')
  live() {
    return LIVE;
  }
}

@Module({ controllers: [LiveController] })
class LiveModule {}

function environment(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

async function raw(port: number): Promise<void> {
  const zone = environment('TIME_ZONE');
  const dataSource = new DataSource(createDataSourceOptions(environment('DATABASE_URL'), 'bench-raw'));
  await dataSource.initialize();
  const reader = new UdilTableReader(dataSource);
  // statusJson and status need the database, the status rows and the zone only: no queue, no driver.
  const transactions = new TransactionAcceptanceService(
    dataSource,
    new TransactionStatusRepository(dataSource),
    undefined as unknown as JobQueueRepository,
    undefined as unknown as DriverRegistry,
    { TIME_ZONE: zone } as AppConfig,
  );
  const clientId = environment('BENCH_CLIENT_ID');
  const transactionid = environment('BENCH_TRANSACTIONID');
  const query = {
    globalDeviceIds: [environment('BENCH_DEVICE')],
    from: new Date(environment('BENCH_FROM')),
    to: new Date(environment('BENCH_TO')),
    page: 1,
    pageSize: 1000,
  };
  const app = express();
  // The array's bytes as the api writes them (never one large string); res.send adds Content-Length and
  // the ETag as the api does.
  const json = (response: express.Response, body: string | Buffer) =>
    typeof body === 'string'
      ? response.type('application/json').send(body)
      : response.setHeader('Content-Type', 'application/json; charset=utf-8').send(body);
  app.get('/health/live', (_request, response) => {
    response.json(LIVE);
  });
  app.post('/raw/transaction_status', (request, response, next) => {
    const work =
      request.query.formatter === 'js'
        ? transactions.status([transactionid], clientId).then((rows) => JSON.stringify(rows))
        : transactions.statusJson([transactionid], clientId).then((answer) => jsonArrayBytes(answer.items));
    work.then((text) => json(response, text), next);
  });
  app.post('/raw/load_profile_data', (request, response, next) => {
    const work =
      request.query.formatter === 'js'
        ? reader
            .read('load_profile_data', query)
            .then((page) =>
              JSON.stringify(page.rows.map((row) => formatUdilRecord('load_profile_data', row, zone))),
            )
        : reader.readUdilJson('load_profile_data', query, zone).then((page) => jsonArrayBytes(page.items));
    work.then((text) => json(response, text), next);
  });
  app.listen(port, '127.0.0.1');
}

async function main(): Promise<void> {
  const [kind, portText] = process.argv.slice(2);
  const port = Number(portText);
  switch (kind) {
    case 'express': {
      const app = express();
      app.get('/health/live', (_request, response) => {
        response.json(LIVE);
      });
      app.listen(port, '127.0.0.1');
      return;
    }
    case 'fastify': {
      const app = fastify();
      app.get('/health/live', () => LIVE);
      await app.listen({ port, host: '127.0.0.1' });
      return;
    }
    case 'nest-express': {
      const app = await NestFactory.create(LiveModule, { logger: false });
      await app.listen(port, '127.0.0.1');
      return;
    }
    case 'nest-fastify': {
      const app = await NestFactory.create(LiveModule, new FastifyAdapter(), { logger: false });
      await app.listen(port, '127.0.0.1');
      return;
    }
    case 'raw':
      return raw(port);
    default:
      throw new Error(`unknown server ${kind}`);
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
