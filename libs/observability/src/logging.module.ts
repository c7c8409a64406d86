import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { RequestLogging } from './request-logging';

/**
 * Structured JSON logs (pino): one line per HTTP request, with the UDIL transactionid when present. The
 * request lines and the request context come from RequestLogging's middleware, which the app's bootstrap
 * installs (`app.use(app.get(RequestLogging).handle)`); nestjs-pino provides the Nest logger over the same
 * root logger and adds no middleware of its own.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [RequestLogging],
      inject: [RequestLogging],
      useFactory: (requestLogging: RequestLogging) => ({
        pinoHttp: { logger: requestLogging.root },
        useExisting: true,
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule {}
