import { QueueName } from '../../src/delivery/delivery.constants';
import { attemptsOf, recordOf, waitForStatus } from '../utils/delivery-helpers';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { QueueInspector } from '../utils/queue-inspector';
import { freePort, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix } from '../utils/test-worker';
import { spawnWorker, type WorkerChild } from '../utils/worker-process';

/** The worker as a real process (`node src/worker.js`): health endpoint, graceful SIGTERM, recovery after SIGKILL. */
describe('Worker process', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let inspector: QueueInspector;
  let client: TestClient;
  let env: Record<string, string>;
  const children: WorkerChild[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    env = {
      REDIS_PREFIX: filePrefix('proc'),
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      MIGRATIONS_RUN: 'false',
      LOG_LEVEL: 'warn',
      // Short locks so a killed worker's job is recovered within seconds, not the default 30 s.
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '300',
    };
    t = await startTestApp({ env });
    inspector = new QueueInspector(t.config);
    client = await createClient(t.dataSource);
  });

  afterAll(async () => {
    for (const c of children) if (c.running()) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await inspector.close();
    await t.close();
    await sink.close();
  });

  async function startWorker(): Promise<{
    worker: WorkerChild;
    health: () => Promise<{ status: number; body: Record<string, unknown> }>;
  }> {
    const port = await freePort();
    const worker = spawnWorker({ ...env, WORKER_HEALTH_PORT: String(port) });
    children.push(worker);
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await waitFor(async () => (await health().catch(() => ({ status: 0 }))).status === 200, 15_000, 100).catch(() => {
      throw new Error(`worker did not become healthy:\n${worker.output()}`);
    });
    return { worker, health };
  }

  const startEmail = async (email: string) =>
    (
      await t.post('/passwordless/start', {
        client_id: client.clientId,
        client_secret: client.secret,
        connection: 'email',
        email,
        send: 'code',
      })
    ).body._id as string;

  it('should report health, finish the in-flight job on SIGTERM and take no new job after it', async () => {
    const { worker, health } = await startWorker();
    expect(await health()).toEqual({
      status: 200,
      body: { status: 'ok', state: 'running', queues: ['email'], checks: { postgres: 'up', redis: 'up' } },
    });

    const inFlight = uniqueEmail();
    const held = sink.hold(inFlight);
    const inFlightId = await startEmail(inFlight);
    await held.reached;

    worker.child.kill('SIGTERM');
    await waitFor(async () => (await health()).status === 503, 5000);
    expect((await health()).body.state).toBe('stopping');
    const afterSignal = uniqueEmail();
    const afterSignalId = await startEmail(afterSignal);
    expect(worker.running()).toBe(true);

    held.release();
    await worker.exited;
    expect(sink.mails(inFlight)).toHaveLength(1);
    expect((await recordOf(t.dataSource, inFlightId)).delivery_status).toBe('sent');
    expect((await recordOf(t.dataSource, afterSignalId)).delivery_status).toBe('pending');
    expect(await (await inspector.job(QueueName.Email, afterSignalId))!.getState()).toBe('waiting');
    expect(sink.mails(afterSignal)).toHaveLength(0);
  });

  it('should refuse to boot without the settings its queues need, naming the key', async () => {
    const worker = spawnWorker({
      ...env,
      WORKER_QUEUES: 'email,sms',
      SMTP_URL: '',
      SMS_PROVIDER: 'http',
      SMS_GATEWAY_URL: '',
    });
    children.push(worker);
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    expect(worker.output()).toContain(
      'SMTP_URL (required with EMAIL_PROVIDER=smtp); SMS_GATEWAY_URL (required with SMS_PROVIDER=http)',
    );
  });

  it('should deliver a job exactly once after its worker was killed mid-send (stalled-job recovery)', async () => {
    const first = await startWorker();
    const email = uniqueEmail();
    const held = sink.hold(email);
    const id = await startEmail(email);
    await held.reached;

    first.worker.child.kill('SIGKILL');
    await first.worker.exited;
    held.release({ accept: false });
    expect((await recordOf(t.dataSource, id)).delivery_status).toBe('pending');

    const second = await startWorker();
    const record = await waitForStatus(t.dataSource, id, 'sent', 20_000);
    expect(sink.mails(email)).toHaveLength(1);
    expect(record.provider_message_id).toBe(sink.mails(email)[0].messageId);
    // The killed attempt never finished, so only the recovered one is logged, as the second attempt.
    expect((await attemptsOf(t.dataSource, id)).map((a) => [a.attempt, a.outcome])).toEqual([[2, 'sent']]);

    second.worker.child.kill('SIGTERM');
    await second.worker.exited;
  });
});
