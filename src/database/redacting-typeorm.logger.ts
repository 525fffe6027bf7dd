import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { isDependencyUnavailable } from '../common/dependency-errors';
import { OutageLog } from '../common/outage-log';

/**
 * TypeORM's own loggers print query parameters with failing queries; ours carry emails, phone numbers, IPs and
 * sealed codes. This one logs the error and the SQL text only.
 */
export class RedactingTypeOrmLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');
  /** A database that is down fails every query: one line when that starts and one when it ends, not one each. */
  private readonly outage = new OutageLog(this.logger, 'Postgres (queries failing)', 5000);

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    if (isDependencyUnavailable(error)) return this.outage.failed(error);
    this.logger.error(
      `${error instanceof Error ? error.message : error} -- in: ${query.replace(/\s+/g, ' ').slice(0, 500)}`,
    );
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow query (${time} ms): ${query.replace(/\s+/g, ' ').slice(0, 500)}`);
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}
