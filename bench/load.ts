import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second offered across all connections; unset = as fast as the server answers. */
  overallRate?: number;
  /** Called once per request: every request gets its own body (fresh email, fresh assertion jti). */
  nextBody: () => string;
}

export interface LoadResult {
  requestsPerSecond: number;
  completed: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts plus non-2xx answers. */
  errors: number;
  statusCounts: Record<string, number>;
}

/** Drives a fixed-duration, fixed-concurrency POST load over keep-alive loopback connections. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    overallRate: options.overallRate,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    timeout: 10,
    requests: [{ setupRequest: (request) => ({ ...request, body: options.nextBody() }) }],
  });
  return {
    requestsPerSecond: result.requests.average,
    completed: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    statusCounts: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
    ),
  };
}
