export { AcmeDriver } from './acme-driver';
export { AcmeGateway, startAcmeGateway } from './acme-gateway';
