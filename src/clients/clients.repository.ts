import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LookupCaches, type TtlCache } from '../common/ttl-cache';
import { ClientEntity } from './client.entity';

@Injectable()
export class ClientsRepository {
  /** Every authenticated request reads its client; see TtlCache for how changes propagate. */
  private readonly cache: TtlCache<ClientEntity>;

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    caches: LookupCaches,
  ) {
    this.cache = caches.create();
  }

  findById(clientId: string): Promise<ClientEntity | null> {
    return this.cache.get(clientId, () => this.clients.findOneBy({ clientId }));
  }
}
