import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  ParameterReadService,
  TransactionAcceptanceService,
  TransactionStatusRepository,
  TransactionWaiter,
} from '@hes/transactions';
import { UdilAuthService } from '@hes/udil';
import { UdilController } from './udil.controller';
import { UdilReadsController } from './udil-reads.controller';
import { UdilParameterReadsController } from './udil-parameter-reads.controller';
import { UdilTableReader } from '@hes/readings';
import { UdilExceptionFilter } from './udil-exception.filter';

@Module({
  controllers: [UdilController, UdilReadsController, UdilParameterReadsController],
  providers: [
    UdilAuthService,
    TransactionAcceptanceService,
    TransactionStatusRepository,
    TransactionWaiter,
    ParameterReadService,
    UdilTableReader,
    { provide: APP_FILTER, useClass: UdilExceptionFilter },
  ],
  exports: [UdilAuthService],
})
export class UdilModule {}
