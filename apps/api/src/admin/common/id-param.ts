import { BadRequestException, ParseUUIDPipe } from '@nestjs/common';

/** `:id` path parameters that are UUIDs: a malformed one is a 400 naming it. */
export const uuidParam = new ParseUUIDPipe({
  exceptionFactory: () => new BadRequestException('id must be a UUID'),
});
