import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { McsClientAccess } from '@hes/mcs';

/**
 * MCS access control (docs/mcs.md): the request must match an enabled MCS client — the registered
 * ones (admin API) or the environment's (MCS_ALLOWED_CLIENTS, MCS_USERNAME / MCS_PASSWORD) — by its
 * address and, when the client has credentials, by HTTP Basic authentication.
 */
@Injectable()
export class McsAccessGuard implements CanActivate {
  constructor(private readonly access: McsClientAccess) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    await this.access.check(request.ip ?? request.socket.remoteAddress, request.headers.authorization);
    return true;
  }
}
