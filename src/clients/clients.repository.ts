import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LookupCaches, type LookupCache } from '../common/lookup-caches';
import { ClientEntity } from './client.entity';

@Injectable()
export class ClientsRepository {
  /** Every authenticated request reads its client; see LookupCaches for how changes propagate. */
  private readonly cache: LookupCache<ClientEntity>;

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    caches: LookupCaches,
  ) {
    this.cache = caches.create((clientId) => this.clients.findOneBy({ clientId }));
  }

  findById(clientId: string): Promise<ClientEntity | null> {
    return this.cache.get(clientId);
  }
}
