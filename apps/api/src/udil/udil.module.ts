import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TransactionAcceptanceService, TransactionStatusRepository } from '@hes/transactions';
import { UdilAuthService } from '@hes/udil';
import { UdilController } from './udil.controller';
import { UdilExceptionFilter } from './udil-exception.filter';

@Module({
  controllers: [UdilController],
  providers: [
    UdilAuthService,
    TransactionAcceptanceService,
    TransactionStatusRepository,
    { provide: APP_FILTER, useClass: UdilExceptionFilter },
  ],
  exports: [UdilAuthService],
})
export class UdilModule {}
