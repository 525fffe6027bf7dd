import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { HealthService } from '../health/health.service';
import { ProbeServer } from '../health/probe.server';
import { RelayStatus } from './relay.status';

/** `GET /health` of a relay process on RELAY_HEALTH_PORT: 200 while Postgres, Redis and the relay's loops work. */
@Injectable()
export class RelayHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RelayHealthServer.name);
  private server?: ProbeServer;
  private stopping = false;

  constructor(
    private readonly status: RelayStatus,
    private readonly health: HealthService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = await ProbeServer.listen(this.config.relay.healthPort, this.config.http.host, async () => {
      const checks = await this.health.check();
      const relay = this.status.check();
      const ok = !this.stopping && checks.status === 'ok' && relay.ok;
      return { ok, body: { status: ok ? 'ok' : 'unavailable', checks: checks.checks, relay } };
    });
    this.logger.log(`Health on :${this.server.port}/health`);
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.server?.close();
  }
}
