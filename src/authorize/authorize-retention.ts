import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { SsoSessionsRepository } from '../sessions/sso-sessions.repository';
import { LoginTicketsRepository } from './login-tickets.repository';

/**
 * Retention: expired SSO sessions and login tickets are deleted on a timer by every API replica (an indexed DELETE of
 * the rows past expires_at; replicas racing each other delete nothing twice). Lookups ignore expired rows anyway.
 */
@Injectable()
export class AuthorizeRetention implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('AuthorizeRetention');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sessions: SsoSessionsRepository,
    private readonly tickets: LoginTicketsRepository,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.authorize.sweepIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Returns how many rows were deleted; a failure (database down) is logged and retried at the next tick. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    try {
      return (await this.sessions.deleteExpired(now)) + (await this.tickets.deleteExpired(now));
    } catch (err) {
      this.logger.warn(`Deleting expired sessions failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }
}
