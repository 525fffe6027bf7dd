import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProbeReport {
  ok: boolean;
  body: Record<string, unknown>;
}

/**
 * The `GET /health` listener of a process without an HTTP API (worker, relay), for liveness/readiness probes:
 * 200 when `report` says ok, else 503, with its body as JSON.
 */
export class ProbeServer {
  private constructor(private readonly server: Server) {}

  static async listen(port: number, host: string, report: () => Promise<ProbeReport>): Promise<ProbeServer> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/health') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      void report().then(({ ok, body }) =>
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new ProbeServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
