import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { RedisClient } from '../redis/redis-connection';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { rateLimitKey } from '../rate-limit/sliding-window.store';
import { REDIS } from '../redis/redis.module';

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: { postgres: 'up' | 'down'; redis: 'up' | 'down' };
  /** What other parts of the process report about themselves (e.g. the delivery backlog); informative only. */
  [detail: string]: unknown;
}

const CHECK_TIMEOUT_MS = 1000;

@Injectable()
export class HealthService {
  private readonly details = new Map<string, () => unknown>();

  /**
   * A rate-limit key: a keyed read fails where PING would not, on a Redis that answers but refuses what the service
   * does (a cluster node that does not serve the slot: MOVED or CLUSTERDOWN; an ACL without the service's keys).
   */
  private readonly redisProbeKey: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient,
    config: AppConfig,
  ) {
    this.redisProbeKey = rateLimitKey(config.redis.prefix, 'health');
  }

  async check(): Promise<HealthReport> {
    const [postgres, redis] = await Promise.all([
      probe(() => this.dataSource.query('SELECT 1')),
      probe(() => this.redis.exists(this.redisProbeKey)),
    ]);
    const report: HealthReport = {
      status: postgres === 'up' && redis === 'up' ? 'ok' : 'degraded',
      checks: { postgres, redis },
    };
    for (const [name, detail] of this.details) report[name] = detail();
    return report;
  }

  /** Adds `name` to every report, from `detail` at the time of the report. */
  addDetail(name: string, detail: () => unknown): void {
    this.details.set(name, detail);
  }
}

async function probe(run: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([run().then(() => 'up' as const), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
