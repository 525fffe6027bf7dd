import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DELIVERY_SECONDS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/**
 * The process's Prometheus metrics (prom-client), created only when METRICS_PORT is set. Request-path updates are
 * counter and histogram increments in memory; gauges that need a query (queue depths, outbox backlog) are collected
 * when Prometheus scrapes.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly collectors: Array<() => Promise<void>> = [];
  private readonly r = [this.registry];

  readonly httpDuration = new Histogram({
    name: 'pwl_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SECONDS,
    registers: this.r,
  });
  readonly starts = new Counter({
    name: 'pwl_passwordless_starts_total',
    help: 'POST /passwordless/start by connection, send mode and outcome (ok, refused, unavailable, invalid)',
    labelNames: ['connection', 'send', 'outcome'] as const,
    registers: this.r,
  });
  readonly refusals = new Counter({
    name: 'pwl_rate_limit_refusals_total',
    help: '429 answers by limit rule',
    labelNames: ['rule'] as const,
    registers: this.r,
  });
  readonly limitStoreFailures = new Counter({
    name: 'pwl_rate_limit_store_failures_total',
    help: 'Rate-limit store (Redis) calls that failed: those limits were not applied (fail open) or fell back to Postgres',
    registers: this.r,
  });
  readonly limitStoreDown = new Gauge({
    name: 'pwl_rate_limit_store_down',
    help: '1 while the rate-limit store (Redis) is failing and limits fail open, else 0',
    registers: this.r,
  });
  readonly otpFailures = new Counter({
    name: 'pwl_otp_failures_total',
    help: 'Wrong or expired one-time codes (OTP grant, /passwordless/verify)',
    labelNames: ['route'] as const,
    registers: this.r,
  });
  readonly tokensIssued = new Counter({
    name: 'pwl_tokens_issued_total',
    help: 'Successful /oauth/token exchanges by grant type',
    labelNames: ['grant_type'] as const,
    registers: this.r,
  });
  readonly outboxRows = new Gauge({
    name: 'pwl_outbox_backlog_rows',
    help: 'Outbox rows not yet moved to the queues',
    labelNames: ['queue'] as const,
    registers: this.r,
  });
  readonly outboxOldestAge = new Gauge({
    name: 'pwl_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox row (0: none)',
    labelNames: ['queue'] as const,
    registers: this.r,
  });
  readonly undeliveredOldestAge = new Gauge({
    name: 'pwl_delivery_oldest_undelivered_age_seconds',
    help: 'Age of the oldest accepted message not yet sent, per channel (API backlog monitor; 0: none)',
    labelNames: ['queue'] as const,
    registers: this.r,
  });
  readonly relayFailures = new Counter({
    name: 'pwl_outbox_relay_failures_total',
    help: 'Relay passes that could not move their rows to the queues',
    registers: this.r,
  });
  readonly queueJobs = new Gauge({
    name: 'pwl_queue_jobs',
    help: 'BullMQ jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: this.r,
  });
  readonly deliveries = new Counter({
    name: 'pwl_deliveries_total',
    help: 'Delivery attempts by queue, provider and outcome (sent, retry, failed, duplicate, skipped)',
    labelNames: ['queue', 'provider', 'outcome'] as const,
    registers: this.r,
  });
  readonly startToSent = new Histogram({
    name: 'pwl_delivery_start_to_sent_seconds',
    help: 'From the accepted start to the provider accepting the message',
    labelNames: ['queue'] as const,
    buckets: DELIVERY_SECONDS,
    registers: this.r,
  });
  readonly breakerTrips = new Counter({
    name: 'pwl_sms_breaker_trips_total',
    help: 'SMS conversion breaker trips by scope (country, prefix)',
    labelNames: ['scope'] as const,
    registers: this.r,
  });
  readonly breakerOpen = new Gauge({
    name: 'pwl_sms_breaker_open',
    help: 'Scopes this process paused and whose cool-off is still running',
    labelNames: ['scope'] as const,
    registers: this.r,
  });
  private readonly breakerUntil = new Map<string, { scope: string; until: number }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pwl_' });
  }

  /** A gauge refreshed when Prometheus scrapes (a failure leaves the last value). */
  onCollect(collect: () => Promise<void>): void {
    this.collectors.push(collect);
  }

  breakerTripped(scope: string, value: string, untilMs: number): void {
    this.breakerTrips.inc({ scope });
    this.breakerUntil.set(`${scope}:${value}`, { scope, until: untilMs });
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => collect().catch(() => undefined)));
    const now = Date.now();
    const open: Record<string, number> = { country: 0, prefix: 0 };
    for (const [key, { scope, until }] of this.breakerUntil) {
      if (until <= now) this.breakerUntil.delete(key);
      else open[scope] = (open[scope] ?? 0) + 1;
    }
    for (const [scope, count] of Object.entries(open)) this.breakerOpen.set({ scope }, count);
    return this.registry.metrics();
  }
}

let instance: Metrics | undefined;

/** The metrics of this process, or undefined when METRICS_PORT is not set (then nothing is measured). */
export const metrics = (): Metrics | undefined => instance;

export function enableMetrics(): Metrics {
  instance ??= new Metrics();
  return instance;
}

/** `GET /metrics` on its own listener, so it is never exposed with the API. */
export async function startMetricsServer(port: number, host: string): Promise<Server> {
  const registry = enableMetrics();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.render().then(
      (text) => res.writeHead(200, { 'content-type': registry.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  server.unref();
  return server;
}
