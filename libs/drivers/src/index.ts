export * from './driver.contract';
export * from './driver-registry';
export * from './g13';
export * from './iserver2';
export * from './drivers.module';
export * from './installed-drivers';
export * from './kit';
