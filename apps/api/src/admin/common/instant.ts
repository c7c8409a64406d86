import { applyDecorators } from '@nestjs/common';
import { IsISO8601, Matches } from 'class-validator';

/** A date-time with its offset: one instant whatever the head-end's zone. */
const WITH_OFFSET = /T.*(?:Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date-time that ends with its offset (Z or ±hh:mm); the messages name `field`. */
export function IsInstant(field: string): PropertyDecorator {
  return applyDecorators(
    IsISO8601({ strict: true }, { message: `${field} must be an ISO 8601 date-time` }),
    Matches(WITH_OFFSET, { message: `${field} must end with its offset (Z or ±hh:mm)` }),
  );
}
