import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LookupCaches, type TtlCache } from '../common/ttl-cache';
import { ConnectionEntity } from './connection.entity';

@Injectable()
export class ConnectionsRepository {
  /** Every start reads its connection; see TtlCache for how changes propagate. */
  private readonly cache: TtlCache<ConnectionEntity>;

  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    caches: LookupCaches,
  ) {
    this.cache = caches.create();
  }

  findByName(name: string): Promise<ConnectionEntity | null> {
    return this.cache.get(name, () => this.connections.findOneBy({ name }));
  }
}
