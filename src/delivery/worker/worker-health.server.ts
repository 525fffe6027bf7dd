import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../../config/app-config';
import { HealthService } from '../../health/health.service';
import { WorkerRunner } from './worker-runner';

/**
 * Workers have no HTTP API; this tiny listener on WORKER_HEALTH_PORT answers `GET /health` for liveness/readiness
 * probes: 200 while consuming with Postgres and Redis reachable, 503 while starting, stopping or degraded.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server?: Server;

  constructor(
    private readonly runner: WorkerRunner,
    private readonly health: HealthService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/health') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      void this.report().then(({ ok, body }) =>
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.worker.healthPort, '0.0.0.0', () => resolve());
    });
    this.server = server;
    this.logger.log(`Health on :${this.port}/health`);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private async report() {
    const checks = await this.health.check();
    const ok = this.runner.state === 'running' && checks.status === 'ok';
    return {
      ok,
      body: {
        status: ok ? 'ok' : 'unavailable',
        state: this.runner.state,
        queues: this.runner.queues,
        checks: checks.checks,
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
