import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { McsAccessPolicy } from '@hes/mcs';

/** MCS access control: client allow-list and optional HTTP Basic credentials (docs/mcs.md). */
@Injectable()
export class McsAccessGuard implements CanActivate {
  private readonly policy: McsAccessPolicy;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.policy = new McsAccessPolicy({
      allowedClients: config.MCS_ALLOWED_CLIENTS,
      username: config.MCS_USERNAME,
      password: config.MCS_PASSWORD,
    });
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    this.policy.check(request.ip ?? request.socket.remoteAddress, request.headers.authorization);
    return true;
  }
}
