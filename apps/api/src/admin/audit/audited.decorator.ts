import { SetMetadata } from '@nestjs/common';

export const AUDITED = 'hes:admin-audited';

export interface AuditedAction {
  /** e.g. gateway.create, device.deactivate */
  action: string;
  /** What the action is about: gateway, device, udil-client. */
  targetType: string;
}

/** Marks an admin route whose every call (successful or not) is written to the audit log. */
export const Audited = (action: string, targetType: string) =>
  SetMetadata(AUDITED, { action, targetType } satisfies AuditedAction);
