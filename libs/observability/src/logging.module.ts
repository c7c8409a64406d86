import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@hes/config';
import type { IncomingMessage } from 'node:http';

const QUIET_PATHS = new Set(['/metrics', '/health', '/health/live']);

/** Structured JSON logs (pino): one line per HTTP request, with the UDIL transactionid when present. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.LOG_LEVEL,
          transport: config.LOG_PRETTY ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
          redact: {
            paths: [
              'req.headers.privatekey',
              'req.headers.password',
              'req.headers.code',
              'req.headers.authorization',
              'req.headers.cookie',
            ],
            censor: '[redacted]',
          },
          customProps: (req: IncomingMessage) => {
            const transactionid = req.headers['transactionid'];
            return typeof transactionid === 'string' ? { transactionid } : {};
          },
          autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
