import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class GatewaySettingsSchemaDto {
  @ApiProperty({
    example: ['https', 'http'],
    type: [String],
    description: 'URL schemes its endpoint may use',
  })
  endpointSchemes!: string[];
  @ApiProperty({ example: 'https://10.20.0.12:443' })
  endpointExample!: string;
  @ApiProperty({ enum: ['required', 'optional', 'none'], example: 'optional' })
  credentials!: 'required' | 'optional' | 'none';
  @ApiPropertyOptional({ example: 4, description: 'the largest maxInFlight its gateways accept' })
  maxInFlightLimit?: number;
}

export class DriverDto {
  @ApiProperty({ example: 'ABB_G13', description: 'the value of a gateway’s driver field' })
  name!: string;
  @ApiProperty({ example: 'ABB G13 energy-meter gateway (HTTPS JSON)' })
  label!: string;
  @ApiProperty({ type: GatewaySettingsSchemaDto })
  settings!: GatewaySettingsSchemaDto;
  @ApiProperty({
    example: ['discoverMeters', 'readClock', 'readInstantaneous'],
    type: [String],
    description: 'the driver operations it implements (what UDIL, MCS, MPCB and the admin API may ask of it)',
  })
  operations!: string[];
  @ApiProperty({
    example: { readSensors: 'the G13 gateway reads energy meters, not analyser sensors' },
    description: 'why each missing operation (or refused variant, "operation:variant") is missing',
  })
  refusals!: Record<string, string>;
  @ApiProperty({
    example: ['meter'],
    type: [String],
    description:
      'the MPCB parameter source kinds its gateways can feed (sensor: readSensors, meter: readInstantaneous)',
  })
  mpcbSources!: string[];
}
