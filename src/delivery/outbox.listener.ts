import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { OutageLog } from '../common/outage-log';
import { AppConfig } from '../config/app-config';
import { OutboxRelay } from './outbox.relay';

/** The channel the delivery_outbox trigger notifies once per inserting statement, on commit. */
export const OUTBOX_CHANNEL = 'delivery_outbox';
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/**
 * LISTENs on its own Postgres connection and wakes the relay when a start commits outbox rows. A lost connection
 * (restart, failover, pg_terminate_backend) is retried with backoff; the relay's timer covers the gap, and a wake-up
 * after reconnecting takes whatever committed meanwhile.
 */
@Injectable()
export class OutboxListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly outage = new OutageLog(new Logger(OutboxListener.name), 'Outbox notifications (LISTEN)');
  private client?: Client;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs = RECONNECT_MIN_MS;
  private stopped = false;

  constructor(
    private readonly relay: OutboxRelay,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }

  get failingSince(): number | undefined {
    return this.outage.downSince;
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.databaseUrl,
      connectionTimeoutMillis: this.config.database.connectTimeoutMs,
      keepAlive: true,
    });
    // Without a listener an 'error' event (the server closed the connection) would crash the process.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', () => this.relay.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.stopped) return void client.end().catch(() => undefined);
    this.client = client;
    this.backoffMs = RECONNECT_MIN_MS;
    this.outage.recovered();
    this.relay.wake();
  }

  private lost(client: Client, err: unknown): void {
    if (this.stopped || (this.client !== undefined && this.client !== client)) return;
    if (this.client === client) this.client = undefined;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.outage.failed(err);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
  }
}
