import { Controller, Get, Header, Inject, Injectable, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { performance } from 'node:perf_hooks';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus registry of this process (one per app, so tests can boot several). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/**
 * The histogram of HTTP request durations (a singleton), and the middleware that observes every request
 * (registered by the api's bootstrap, before every route).
 */
@Injectable()
export class HttpRequestMetrics {
  readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  /** Express middleware: one observation per answered request, labelled once it is answered. */
  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    const start = performance.now();
    // 'finish' comes once per answer: a plain listener (no once() wrapper to make and remove).
    res.on('finish', () => {
      // The matched route pattern keeps label cardinality bounded (never the raw URL).
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.duration.observe(
        { method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) },
        (performance.now() - start) / 1000,
      );
    });
    next();
  };
}

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

@Module({
  providers: [
    {
      provide: METRICS_REGISTRY,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    HttpRequestMetrics,
  ],
  controllers: [MetricsController],
  exports: [METRICS_REGISTRY, HttpRequestMetrics],
})
export class MetricsModule {}
