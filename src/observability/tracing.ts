/**
 * OpenTelemetry, only when OTEL_EXPORTER_OTLP_ENDPOINT is set: the SDK and its instrumentations are required here
 * and nowhere else, so a process without it loads none of them and pays nothing. Must run before http, fastify, pg
 * and ioredis are first required (src/observability/tracing-preload.ts is the entry points' first import).
 * The standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER…) apply.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy by design: nothing is loaded unless tracing is on */
type Api = typeof import('@opentelemetry/api');

let api: Api | undefined;

export function startTracing(role: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT || api) return api !== undefined;
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { FastifyInstrumentation } =
    require('@opentelemetry/instrumentation-fastify') as typeof import('@opentelemetry/instrumentation-fastify');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? `passwordless-${role}`,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new HttpInstrumentation(),
      new FastifyInstrumentation(),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
  api = require('@opentelemetry/api') as Api;
  // Spans still buffered are exported before the process exits.
  const flush = () => void sdk.shutdown().catch(() => undefined);
  process.once('SIGTERM', flush);
  process.once('SIGINT', flush);
  return true;
}

/** W3C `traceparent` of the active span, to carry in a job; undefined when tracing is off. */
export function currentTraceparent(): string | undefined {
  if (!api) return undefined;
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  return carrier.traceparent;
}

/** Runs `work` in a span that continues the trace of `traceparent` (the start that queued this job). */
export function inContinuedSpan<T>(name: string, traceparent: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!api) return work();
  const otel = api;
  const parent = traceparent ? otel.propagation.extract(otel.context.active(), { traceparent }) : otel.context.active();
  return otel.trace.getTracer('passwordless').startActiveSpan(name, {}, parent, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: otel.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
