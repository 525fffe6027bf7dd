import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';

/**
 * Prefixes keys per deployment and fails open when Redis is unreachable: the records and outbox live in Postgres,
 * so logins keep working through a Redis outage, at the cost of not counting requests for its duration.
 */
export class FailOpenThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(FailOpenThrottlerStorage.name);

  constructor(
    private readonly inner: ThrottlerStorage,
    private readonly prefix: string,
  ) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    try {
      return await this.inner.increment(`${this.prefix}:rl:${key}`, ttl, limit, blockDuration, throttlerName);
    } catch (err) {
      this.logger.warn(`Rate-limit storage unavailable, allowing request: ${(err as Error).message}`);
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}
