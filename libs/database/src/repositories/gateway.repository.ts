import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CredentialCipher } from '../credential-cipher';
import { Gateway, TlsMode } from '../entities';

export interface NewGateway {
  name: string;
  driver: string;
  endpoint: string;
  tlsMode?: TlsMode;
  tlsCaPem?: string | null;
  tlsFingerprintSha256?: string | null;
  username?: string | null;
  /** Plain password; stored encrypted. */
  password?: string | null;
  maxInFlight?: number;
  requestTimeoutMs?: number;
}

export interface GatewayCredentials {
  username: string | null;
  password: string | null;
}

@Injectable()
export class GatewayRepository {
  constructor(
    @InjectRepository(Gateway) private readonly gateways: Repository<Gateway>,
    private readonly cipher: CredentialCipher,
  ) {}

  async create(input: NewGateway): Promise<Gateway> {
    const { password, ...rest } = input;
    return this.gateways.save(
      this.gateways.create({
        ...rest,
        passwordEncrypted: password ? this.cipher.encrypt(password) : null,
      }),
    );
  }

  findById(id: string): Promise<Gateway | null> {
    return this.gateways.findOneBy({ id });
  }

  findByName(name: string): Promise<Gateway | null> {
    return this.gateways.findOneBy({ name });
  }

  /** The credentials a driver needs to log in, decrypted only at the moment of use. */
  credentialsOf(gateway: Gateway): GatewayCredentials {
    return {
      username: gateway.username,
      password: gateway.passwordEncrypted ? this.cipher.decrypt(gateway.passwordEncrypted) : null,
    };
  }
}
