import { createHash } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { constantTimeEqual } from '../../common/constant-time';
import { AppConfig } from '../../config/app-config';

const BASE_PATH = '/queues';

/**
 * Bull Board (failed deliveries at a glance, retry from the browser) on WORKER_ADMIN_PORT, only when it and
 * WORKER_ADMIN_TOKEN are set. Every request must carry the token, as `Authorization: Bearer <token>` or as the
 * password of HTTP Basic authentication (so a browser asks for it once and sends it with the board's own calls).
 * Compared in constant time, as SHA-256 digests so that lengths do not leak either.
 */
@Injectable()
export class QueueBoardServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(QueueBoardServer.name);
  private app?: FastifyInstance;

  constructor(
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { adminPort, adminToken } = this.config.worker;
    if (!adminPort || !adminToken) return;
    const expected = digest(adminToken);
    const queues = this.config.worker.queues.map(
      (name) => new BullMQAdapter(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false })),
    );
    const board = new FastifyAdapter();
    board.setBasePath(BASE_PATH);
    createBullBoard({ queues, serverAdapter: board });
    const app = Fastify({ logger: false });
    app.addHook('onRequest', (request, reply, done) => {
      if (constantTimeEqual(digest(presentedToken(request.headers.authorization)), expected)) return done();
      void reply.code(401).header('www-authenticate', 'Basic realm="queues"').send({ error: 'unauthorized' });
    });
    await app.register(board.registerPlugin(), { prefix: BASE_PATH });
    await app.listen({ port: adminPort, host: this.config.http.host });
    this.app = app;
    this.logger.log(`Queue board on :${adminPort}${BASE_PATH}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.app?.close();
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token of `Bearer <token>`, or the password of `Basic base64(user:password)`; '' for anything else. */
function presentedToken(header: string | undefined): string {
  const [scheme, value] = (header ?? '').split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value ?? '';
  if (scheme?.toLowerCase() !== 'basic' || !value) return '';
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}
