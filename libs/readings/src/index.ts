export * from './udil-readings.repository';
export * from './udil-table-reader';
