import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { TtlCache } from '../common/ttl-cache';
import { AppConfig } from '../config/app-config';
import { ClientEntity } from './client.entity';

@Injectable()
export class ClientsRepository {
  /** Every authenticated request reads its client; see TtlCache for how changes propagate. */
  private readonly cache: TtlCache<ClientEntity>;

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    config: AppConfig,
    clock: Clock,
  ) {
    this.cache = TtlCache.forLookups(config, clock);
  }

  findById(clientId: string): Promise<ClientEntity | null> {
    return this.cache.get(clientId, () => this.clients.findOneBy({ clientId }));
  }
}
