import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, uniqueEmail } from '../utils/factories';
import { credentials } from '../utils/passwordless-flow';
import { freePort, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { isolatedRedisPrefix, startTestApp } from '../utils/test-app';
import { spawnRole, type RoleChild } from '../utils/worker-process';

interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
}

/** A minimal OTLP/HTTP (JSON) trace receiver: what the exporter posts to <endpoint>/v1/traces. */
async function startCollector(): Promise<{ server: Server; url: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      type Attr = { key: string; value: { stringValue?: string } };
      const parsed = JSON.parse(body) as {
        resourceSpans: Array<{
          resource: { attributes: Attr[] };
          scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
        }>;
      };
      for (const rs of parsed.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) spans.push({ service, name: s.name, traceId: s.traceId });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

/** With OTEL_EXPORTER_OTLP_ENDPOINT set, the worker's delivery span continues the trace of the start that queued it. */
describe('Traces', () => {
  it('should continue the API trace of a start in the worker that delivers it', async () => {
    const collector = await startCollector();
    const sink = await SmtpSink.start();
    const t = await startTestApp({ relay: false });
    const client = await createClient(t.dataSource);
    const [apiPort, workerPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_PREFIX: isolatedRedisPrefix(),
      MIGRATIONS_RUN: 'false',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      WORKER_QUEUES: 'email',
      WORKER_RUN_RELAY: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const roles: RoleChild[] = [
      spawnRole('main.ts', { ...env, HOST: '127.0.0.1', PORT: String(apiPort) }),
      spawnRole('worker.ts', { ...env, WORKER_HEALTH_PORT: String(workerPort) }),
    ];
    try {
      const up = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok;
      for (const port of [apiPort, workerPort]) await waitFor(() => up(port).then(Boolean), 30_000, 100);
      const email = uniqueEmail();
      const res = await fetch(`http://127.0.0.1:${apiPort}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...credentials(client), connection: 'email', email, send: 'code' }),
      });
      expect(res.status).toBe(200);
      await sink.waitFor(email);
      const delivery = () =>
        collector.spans.find((s) => s.service === 'passwordless-worker' && s.name === 'deliver email');
      await waitFor(() => Promise.resolve(delivery() !== undefined), 10_000, 100);
      const apiTrace = collector.spans.filter(
        (s) => s.service === 'passwordless-api' && s.traceId === delivery()!.traceId,
      );
      expect(apiTrace.map((s) => s.name)).toContainEqual(expect.stringMatching(/POST/));
    } finally {
      for (const role of roles) if (role.running()) role.child.kill('SIGTERM');
      await Promise.all(roles.map((role) => role.exited));
      await t.close();
      await sink.close();
      collector.server.close();
    }
  });
});
