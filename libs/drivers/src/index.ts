export * from './driver.contract';
export * from './driver-registry';
