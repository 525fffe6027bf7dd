import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LookupCaches, type LookupCache } from '../common/lookup-caches';
import { ConnectionEntity } from './connection.entity';

@Injectable()
export class ConnectionsRepository {
  /** Every start reads its connection; see LookupCaches for how changes propagate. */
  private readonly cache: LookupCache<ConnectionEntity>;

  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    caches: LookupCaches,
  ) {
    this.cache = caches.create((name) => this.connections.findOneBy({ name }));
  }

  findByName(name: string): Promise<ConnectionEntity | null> {
    return this.cache.get(name);
  }
}
