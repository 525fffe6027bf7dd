import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { HealthService } from '../../health/health.service';
import { ProbeServer } from '../../health/probe.server';
import { RelayStatus } from '../relay.status';
import { WorkerRunner } from './worker-runner';

/**
 * `GET /health` on WORKER_HEALTH_PORT: 200 while consuming with Postgres and Redis reachable (and, when this worker
 * also runs the relay, its loops working), 503 while starting, stopping or degraded, including while a queue's
 * consumer keeps failing on a Redis that answers but refuses its commands (`failing_queues`, with the last error).
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server?: ProbeServer;

  constructor(
    private readonly runner: WorkerRunner,
    private readonly health: HealthService,
    private readonly config: AppConfig,
    @Optional() private readonly relay?: RelayStatus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.server = await ProbeServer.listen(this.config.worker.healthPort, this.config.http.host, () => this.report());
    this.logger.log(`Health on :${this.port}/health`);
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  private async report() {
    const checks = await this.health.check();
    const relay = this.relay?.check();
    const failing = this.runner.failingQueues();
    const ok =
      this.runner.state === 'running' &&
      checks.status === 'ok' &&
      (relay?.ok ?? true) &&
      Object.keys(failing).length === 0;
    return {
      ok,
      body: {
        status: ok ? 'ok' : 'unavailable',
        state: this.runner.state,
        queues: this.runner.queues,
        checks: checks.checks,
        ...(Object.keys(failing).length > 0 ? { failing_queues: failing } : {}),
        ...(relay ? { relay } : {}),
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
