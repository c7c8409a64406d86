export * from './udil-datetime';
export * from './udil-error';
export * from './udil-parameters';
export * from './udil-response';
export * from './auth/secret-hash';
export * from './auth/udil-auth.service';
export * from './udil-vocabulary';
export * from './udil-services';
