import { BadRequestException, ParseUUIDPipe, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

/** A UUID path parameter other than `:id`: a malformed one is a 400 naming it. */
export function namedUuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(`${name} must be a UUID`) });
}

export const monitoringUnitIdParam = namedUuidParam('monitoringUnitId');
export const analyserIdParam = namedUuidParam('analyserId');

/** `:parameterId`: an MPCB identifier (it goes into the data CSV and file names). */
export const parameterIdParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9_.\- ]{0,98}[A-Za-z0-9_.-])?$/.test(value))
      throw new BadRequestException(
        'parameterId must be 1 to 100 letters, digits, _ . - or inner spaces, starting with a letter or digit',
      );
    return value;
  },
};

export const SITE_ID = ApiParam({ name: 'id', example: '5a1c2d3e-0000-4000-8000-000000000001' });
export const UNIT_ID = ApiParam({
  name: 'monitoringUnitId',
  example: '5a1c2d3e-0000-4000-8000-000000000002',
});
export const ANALYSER_ID = ApiParam({ name: 'analyserId', example: '5a1c2d3e-0000-4000-8000-000000000003' });
export const PARAMETER_ID = ApiParam({ name: 'parameterId', example: 'SO2' });
