import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { MpcbAcquisitionService } from './mpcb-acquisition.service';
import { MpcbCalibrationRepository } from './mpcb-calibration.repository';
import { MpcbCentralClient } from './mpcb-central.client';
import { MPCB_CLOCK, systemClock } from './mpcb-clock';
import { MpcbInstructionService } from './mpcb-instruction.service';
import { MpcbReadingRepository } from './mpcb-reading.repository';
import { MPCB_SETTINGS, mpcbSettingsFromConfig } from './mpcb-settings';
import { MpcbSiteRepository } from './mpcb-site.repository';
import { MpcbTransmissionService } from './mpcb-transmission.service';

const PROVIDERS = [
  MpcbSiteRepository,
  MpcbReadingRepository,
  MpcbCalibrationRepository,
  MpcbCentralClient,
  MpcbAcquisitionService,
  MpcbInstructionService,
  MpcbTransmissionService,
];

/**
 * The MPCB OCEMS site client's services. Needs the database (global DatabaseModule), the driver registry
 * (global DriversModule) and APP_CONFIG; the worker imports it and schedules its jobs.
 */
@Module({
  providers: [
    {
      provide: MPCB_SETTINGS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => mpcbSettingsFromConfig(config),
    },
    { provide: MPCB_CLOCK, useValue: systemClock },
    ...PROVIDERS,
  ],
  exports: [MPCB_SETTINGS, MPCB_CLOCK, ...PROVIDERS],
})
export class MpcbModule {}
