export * from './progress';
export * from './tls';
export * from './client-cache';
export * from './http';
