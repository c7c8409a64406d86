export * from './udil-readings.repository';
