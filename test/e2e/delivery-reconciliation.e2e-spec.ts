import { Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  jobIdFor,
  QueueName,
  sentUnrecordedReason,
  type DeliveryJobData,
  queuePrefix,
} from '../../src/delivery/delivery.constants';
import { DeliveryBacklogMonitor } from '../../src/delivery/delivery-backlog.monitor';
import { DeliveryReconciler } from '../../src/delivery/delivery.reconciler';
import { DeliveryAttemptsRepository } from '../../src/delivery/worker/delivery-attempts.repository';
import { SecretBox } from '../../src/verification/secret-box';
import { SecretHasher } from '../../src/verification/secret-hasher';
import { attemptsOf, recordOf, waitForStatus } from '../utils/delivery-helpers';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { otpGrant } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix, startTestWorker } from '../utils/test-worker';

const CODE = / is: (\d{6})$/m;

/** What the reconciler does for messages whose jobs went missing, expired or failed without a trace on the record. */
describe('Delivery reconciliation', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let inspector: QueueInspector;
  let client: TestClient;
  let env: Record<string, string>;
  let reconciler: DeliveryReconciler;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    env = {
      REDIS_PREFIX: filePrefix('reconcile'),
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      // Passes are driven by the tests, and every undelivered record is looked at however young.
      DELIVERY_RECONCILE_INTERVAL_MS: '600000',
      DELIVERY_RECONCILE_AFTER_MS: '0',
    };
    t = await startTestApp({ env });
    reconciler = t.relay!.get(DeliveryReconciler);
    inspector = new QueueInspector(t.config);
    client = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
    await sink.close();
  });

  const start = (email: string) =>
    t.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email,
      send: 'code',
    });

  /** Runs the record's job on a stand-in worker that fails it for good with `reason` (the record is not touched). */
  async function failJob(id: string, reason: string): Promise<void> {
    await inspector.job(QueueName.Email, id);
    const worker = new Worker<DeliveryJobData>(QueueName.Email, () => Promise.reject(new UnrecoverableError(reason)), {
      connection: { url: t.config.redis.url, maxRetriesPerRequest: null },
      prefix: queuePrefix(t.config.redis.prefix, QueueName.Email),
    });
    try {
      await new Promise<void>((resolve) => worker.on('failed', (job) => job?.data.verificationId === id && resolve()));
    } finally {
      await worker.close();
    }
  }

  it('should issue a lost job again with a new code, which is delivered and works, while the lost code does not', async () => {
    const email = uniqueEmail();
    const res = await start(email);
    expect(res.status).toBe(200);
    const id = res.body._id as string;
    const job = await inspector.job(QueueName.Email, id);
    const before = await recordOf(t.dataSource, id);
    const lostCode = new SecretBox(t.config).open(id, job!.data.sealedSecret).code;
    // Redis restarted without persistence: the job and the sealed code in it are gone.
    await job!.remove();

    await expect(reconciler.reconcile()).resolves.toMatchObject({ reissued: 1 });
    await expect(reconciler.reconcile()).resolves.toMatchObject({ reissued: 0 }); // its new job is on the queue
    const reissued = await recordOf(t.dataSource, id);
    expect(reissued.code_hmac).not.toBe(before.code_hmac);

    const worker = await startTestWorker(env);
    try {
      const [mail] = await sink.waitFor(email);
      await waitForStatus(t.dataSource, id, 'sent');
      const code = CODE.exec(mail.text!)![1];
      if (code !== lostCode) {
        const lost = await otpGrant(t, client, { username: email, otp: lostCode, realm: 'email' });
        expect(lost.status).toBe(403);
      }
      const token = await otpGrant(t, client, { username: email, otp: code, realm: 'email' });
      expect(token.status).toBe(200);
      expect(sink.mails(email)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  });

  it('should mark a message whose code expired before any send failed, with an expired attempt', async () => {
    const email = uniqueEmail();
    const res = await start(email);
    const id = res.body._id as string;
    await inspector.job(QueueName.Email, id);
    await t.dataSource.query(`UPDATE verifications SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);

    await expect(reconciler.reconcile()).resolves.toMatchObject({ expired: 1 });
    expect((await recordOf(t.dataSource, id)).delivery_status).toBe('failed');
    expect(await attemptsOf(t.dataSource, id)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'expired', error: 'the code expired before it could be sent' }),
    ]);
    await expect(reconciler.reconcile()).resolves.toMatchObject({ expired: 0 });
  });

  it('should mark sent a message whose provider accepted it but whose outcome was not recorded, without sending again', async () => {
    const email = uniqueEmail();
    const res = await start(email);
    const id = res.body._id as string;
    // What DeliveryService leaves when the success write failed after the provider answered.
    await failJob(id, sentUnrecordedReason('<provider-id@sink>'));

    await expect(reconciler.reconcile()).resolves.toMatchObject({ settled: 1, reissued: 0 });
    const record = await recordOf(t.dataSource, id);
    expect(record).toMatchObject({ delivery_status: 'sent', provider_message_id: '<provider-id@sink>' });
    expect((await attemptsOf(t.dataSource, id)).map((a) => a.outcome)).toEqual(['recovered']);
    expect(sink.mails(email)).toHaveLength(0);
  });

  it('should mark failed a message whose job failed for good without the record saying so', async () => {
    const email = uniqueEmail();
    const id = (await start(email)).body._id as string;
    await failJob(id, '550 mailbox unavailable');

    await expect(reconciler.reconcile()).resolves.toMatchObject({ settled: 1 });
    expect((await recordOf(t.dataSource, id)).delivery_status).toBe('failed');
  });

  it('should run again a job that failed because the database was unavailable, and deliver it', async () => {
    const email = uniqueEmail();
    const id = (await start(email)).body._id as string;
    await failJob(id, 'Connection terminated unexpectedly');

    await expect(reconciler.reconcile()).resolves.toMatchObject({ settled: 1 });
    const worker = await startTestWorker(env);
    try {
      await sink.waitFor(email);
      await waitForStatus(t.dataSource, id, 'sent');
    } finally {
      await worker.close();
    }
  });

  it('should not let the send of a code that was issued again mark its record sent', async () => {
    const email = uniqueEmail();
    const id = (await start(email)).body._id as string;
    const worker = await startTestWorker({ ...env, WORKER_QUEUES: 'sms' }); // a worker module, without email jobs
    try {
      const repo = worker.moduleRef.get(DeliveryAttemptsRepository);
      const stale = new SecretHasher(t.config).hash(id, 'code', '000000');
      const log = { verificationId: id, queue: 'email', attempt: 1, provider: 'smtp', startedAt: new Date() };
      await expect(repo.succeed(log, 'stale', stale, new Date())).resolves.toBe(false);
      expect((await recordOf(t.dataSource, id)).delivery_status).toBe('pending');
    } finally {
      await worker.close();
    }
  });

  it('should leave records whose jobs are still waiting alone', async () => {
    const id = (await start(uniqueEmail())).body._id as string;
    await inspector.job(QueueName.Email, id);
    const queue = new Queue<DeliveryJobData>(QueueName.Email, {
      connection: { url: t.config.redis.url },
      prefix: queuePrefix(t.config.redis.prefix, QueueName.Email),
    });
    try {
      await expect(reconciler.reconcile()).resolves.toMatchObject({ reissued: 0, settled: 0 });
      expect(await queue.getJob(jobIdFor(id))).toBeDefined();
    } finally {
      await queue.close();
    }
  });

  it("should show the delivery backlog in the API's health report", async () => {
    await start(uniqueEmail());
    await t.app.get(DeliveryBacklogMonitor).check();
    const health = await t.get('/health');
    expect(health.status).toBe(200);
    expect(health.body.delivery).toEqual({
      oldestUndeliveredMs: { email: expect.any(Number), sms: null },
      shedding: [],
    });
  });
});
