import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ConnectionEntity } from './connection.entity';

@Injectable()
export class ConnectionsRepository {
  constructor(@InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>) {}

  findByName(name: string): Promise<ConnectionEntity | null> {
    return this.connections.findOneBy({ name });
  }
}
