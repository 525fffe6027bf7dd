import { Queue, UnrecoverableError, type Job } from 'bullmq';
import { Clock } from '../../src/common/clock';
import { QueueName, type DeliveryJobData, queuePrefix } from '../../src/delivery/delivery.constants';
import { EmailChannel } from '../../src/delivery/email/email.channel';
import { FailedDeliveries } from '../../src/delivery/failed-deliveries';
import { DeliveryAttemptsRepository } from '../../src/delivery/worker/delivery-attempts.repository';
import { DeliveryService } from '../../src/delivery/worker/delivery.service';
import { SecretBox } from '../../src/verification/secret-box';
import { VerificationSecrets } from '../../src/verification/verification-secrets';
import { SecretHasher } from '../../src/verification/secret-hasher';
import { attemptsOf, createConnection, recordOf, waitForStatus } from '../utils/delivery-helpers';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { QueueInspector } from '../utils/queue-inspector';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix, startTestWorker, type TestWorker } from '../utils/test-worker';

/** The code after the label (the client name may itself contain six digits, e.g. "Test 123456"). */
const DEFAULT_CODE = / is: (\d{6})$/m;
const CODE = /\b(\d{6})\b/;
const LINK = /https:\/\/tenant\.example\.com\/passwordless\/verify_redirect\?[^\s"<>]+/;

describe('Email delivery worker', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let worker: TestWorker;
  let inspector: QueueInspector;
  let client: TestClient;
  let hasher: SecretHasher;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    const env = {
      REDIS_PREFIX: filePrefix('email'),
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      DELIVERY_MAX_ATTEMPTS: '3',
      DELIVERY_BACKOFF_MS: '20',
    };
    t = await startTestApp({ env });
    worker = await startTestWorker(env);
    inspector = new QueueInspector(t.config);
    client = await createClient(t.dataSource);
    hasher = new SecretHasher(t.config);
  });

  afterAll(async () => {
    await worker.close();
    await inspector.close();
    await t.close();
    await sink.close();
  });

  const start = (body: Record<string, unknown>, headers?: Record<string, string>, who: TestClient = client) =>
    t.post('/passwordless/start', { client_id: who.clientId, client_secret: who.secret, ...body }, headers);

  it('should deliver a code by email that matches the stored HMAC, and record the send', async () => {
    const email = uniqueEmail();
    const res = await start({ connection: 'email', email, send: 'code' });
    const id = res.body._id as string;

    const [mail] = await sink.waitFor(email);
    const record = await waitForStatus(t.dataSource, id, 'sent');
    const code = DEFAULT_CODE.exec(mail.text!)![1];
    expect(hasher.matches(id, 'code', code, record.code_hmac)).toBe(true);
    expect(mail.html).toContain(code);
    expect(mail.from).toBe('"Passwordless" <no-reply@localhost>');
    expect(mail.subject).toBe(`Your verification code for Test ${client.clientId.slice(0, 6)}`);
    expect(record.provider_message_id).toBe(mail.messageId);
    expect(record.delivered_at).toBeInstanceOf(Date);

    const attempts = await attemptsOf(t.dataSource, id);
    expect(attempts).toEqual([
      { attempt: 1, provider: 'smtp', outcome: 'sent', provider_message_id: mail.messageId, error: null },
    ]);
    expect(JSON.stringify(attempts)).not.toContain(code);
  });

  it('should deliver a magic link whose token matches the stored HMAC and carries the auth params', async () => {
    const email = uniqueEmail();
    const res = await start({
      connection: 'email',
      email,
      send: 'link',
      authParams: { scope: 'openid email', state: 's-123' },
    });
    const id = res.body._id as string;

    const [mail] = await sink.waitFor(email);
    const record = await waitForStatus(t.dataSource, id, 'sent');
    const link = new URL(LINK.exec(mail.text!)![0]);
    expect(Object.fromEntries(link.searchParams)).toEqual({
      client_id: client.clientId,
      connection: 'email',
      email,
      verification_code: expect.any(String),
      scope: 'openid email',
      state: 's-123',
      redirect_uri: 'https://app.example.com/callback',
    });
    expect(hasher.matches(id, 'link', link.searchParams.get('verification_code')!, record.link_token_hmac!)).toBe(true);
    expect(mail.html).toContain(`href="${link.toString().replace(/&/g, '&amp;')}"`);
    expect(mail.subject).toBe(`Sign in to Test ${client.clientId.slice(0, 6)}`);
  });

  it('should retry SMTP 421 with backoff and deliver exactly once on the third attempt', async () => {
    const email = uniqueEmail();
    sink.script(email, [421, 421]);
    const res = await start({ connection: 'email', email, send: 'code' });
    const id = res.body._id as string;

    const record = await waitForStatus(t.dataSource, id, 'sent');
    expect(sink.mails(email)).toHaveLength(1);
    expect(record.provider_message_id).toBe(sink.mails(email)[0].messageId);
    const attempts = await attemptsOf(t.dataSource, id);
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'sent'],
    ]);
    // nodemailer reports the 421 as the connection the server closed with it.
    expect(attempts[0].error).toMatch(/^SMTP (421|ECONNECTION)/);
  });

  it('should fail at once on SMTP 550 and keep the job in the failed set', async () => {
    const email = uniqueEmail();
    sink.script(email, [550]);
    const res = await start({ connection: 'email', email, send: 'code' });
    const id = res.body._id as string;

    await waitForStatus(t.dataSource, id, 'failed');
    const attempts = await attemptsOf(t.dataSource, id);
    expect(attempts).toEqual([
      {
        attempt: 1,
        provider: 'smtp',
        outcome: 'failed',
        provider_message_id: null,
        error: expect.stringMatching(/^SMTP 550 on RCPT TO/),
      },
    ]);
    const job = await inspector.job(QueueName.Email, id);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(sink.mails(email)).toHaveLength(0);
  });

  it('should list a failed delivery and deliver it once retried (npm run deliveries:retry)', async () => {
    const email = uniqueEmail();
    sink.script(email, [550]);
    const id = (await start({ connection: 'email', email, send: 'code' })).body._id as string;
    await waitForStatus(t.dataSource, id, 'failed');

    const failed = await new FailedDeliveries(t.config).open();
    try {
      const [delivery] = await failed.list(QueueName.Email, id);
      expect(delivery).toEqual({
        queue: 'email',
        verificationId: id,
        attemptsMade: 1,
        failedAt: expect.any(Date),
        reason: expect.stringMatching(/^SMTP 550/),
      });
      expect((await failed.list(QueueName.Email)).map((d) => d.verificationId)).toContain(id);
      await failed.retry(delivery);
    } finally {
      await failed.close();
    }
    await waitForStatus(t.dataSource, id, 'sent');
    expect(sink.mails(email)).toHaveLength(1);
    expect((await attemptsOf(t.dataSource, id)).map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [1, 'sent'],
    ]);
  });

  it('should mark the record failed after the last transient failure', async () => {
    const email = uniqueEmail();
    sink.script(email, [421, 421, 421]);
    const res = await start({ connection: 'email', email, send: 'code' });
    const id = res.body._id as string;

    await waitForStatus(t.dataSource, id, 'failed');
    expect((await attemptsOf(t.dataSource, id)).map((a) => a.outcome)).toEqual(['retry', 'retry', 'failed']);
    const job = await inspector.job(QueueName.Email, id);
    expect(await job!.getState()).toBe('failed');
    expect(sink.mails(email)).toHaveLength(0);
  });

  describe('templates and languages', () => {
    let frClient: TestClient;
    let connection: string;

    beforeAll(async () => {
      connection = await createConnection(t.dataSource, 'email', {
        sender: 'Acme <login@acme.example>',
        templates: {
          fr: {
            subject: 'Votre code pour {{ application.name }}',
            text: 'Bonjour ! Votre code est {{ code }} ({{ request_language }}).',
            html: '<p>Votre code est <b>{{ code }}</b> pour {{ application.name }}</p>',
          },
        },
      });
      frClient = await createClient(t.dataSource, { connections: [connection] });
      await t.dataSource.query('UPDATE clients SET name = $2 WHERE client_id = $1', [frClient.clientId, 'Acme <Shop>']);
    });

    it.each(['fr', 'fr-CA'])('should send the French template for x-request-language: %s', async (language) => {
      const email = uniqueEmail();
      const res = await start({ connection, email, send: 'code' }, { 'x-request-language': language }, frClient);
      const [mail] = await sink.waitFor(email);
      const code = CODE.exec(mail.text!)![1];
      expect(mail.text).toBe(`Bonjour ! Votre code est ${code} (${language}).`);
      expect(mail.subject).toBe('Votre code pour Acme <Shop>');
      expect(mail.html).toContain('pour Acme &lt;Shop&gt;');
      expect(mail.from).toBe('"Acme" <login@acme.example>');
      expect(
        hasher.matches(
          res.body._id as string,
          'code',
          code,
          (await recordOf(t.dataSource, res.body._id as string)).code_hmac,
        ),
      ).toBe(true);
    });

    it('should fall back to the default English template for an unknown language', async () => {
      const email = uniqueEmail();
      await start({ connection, email, send: 'code' }, { 'x-request-language': 'de' }, frClient);
      const [mail] = await sink.waitFor(email);
      expect(mail.subject).toBe('Your verification code for Acme <Shop>');
      expect(mail.text).toMatch(/^Your verification code for Acme <Shop> is: \d{6}/);
    });

    it('should fail a template error at once without sending', async () => {
      const broken = await createConnection(t.dataSource, 'email', {
        templates: { default: { text: 'Code: {% if code %}{{ code }}' } },
      });
      const brokenClient = await createClient(t.dataSource, { connections: [broken] });
      const email = uniqueEmail();
      const res = await start({ connection: broken, email, send: 'code' }, undefined, brokenClient);
      const id = res.body._id as string;

      await waitForStatus(t.dataSource, id, 'failed');
      const attempts = await attemptsOf(t.dataSource, id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0].error).toMatch(/^template error in text/);
      expect(sink.mails(email)).toHaveLength(0);
    });
  });

  describe('idempotency', () => {
    /**
     * A record inserted without going through the API, so no worker races the direct delivery below. `queued` is what
     * earlier versions' relay left on records it had queued; `pending` is a live record now.
     */
    const codeHmacOf = (id: string) => hasher.hash(id, 'code', '123456');

    async function insertRecord(state: string): Promise<{ job: Job<DeliveryJobData>; email: string; id: string }> {
      const email = uniqueEmail();
      const id = Buffer.from(email).toString('hex').slice(0, 24).padEnd(24, '0');
      const box = new SecretBox(t.config);
      await t.dataSource.query(
        `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, expires_at, delivery_status, superseded_at, consumed_at)
         VALUES ($1, $2, 'email', $3, 'code', $4, now() + $5::interval, $6, $7, $8)`,
        [
          id,
          client.clientId,
          email,
          hasher.hash(id, 'code', '123456'),
          state === 'expired' ? '-1 second' : '3 minutes',
          state === 'sent' || state === 'queued' ? state : 'pending',
          state === 'superseded' ? new Date() : null,
          state === 'consumed' ? new Date() : null,
        ],
      );
      const data = { verificationId: id, sealedSecret: box.seal(id, { code: '123456' }) };
      return {
        job: { data, attemptsMade: 0, attemptsStarted: 1, opts: { attempts: 3 } } as Job<DeliveryJobData>,
        email,
        id,
      };
    }

    it.each(['sent', 'superseded', 'consumed', 'expired'])(
      'should skip a record that is already %s without sending',
      async (state) => {
        const delivery = worker.moduleRef.get(DeliveryService);
        const { job, email, id } = await insertRecord(state);
        await expect(delivery.deliver(QueueName.Email, job, worker.moduleRef.get(EmailChannel))).resolves.toBe(
          `skipped:${state}`,
        );
        expect(sink.mails(email)).toHaveLength(0);
        expect(await attemptsOf(t.dataSource, id)).toEqual([]);
      },
    );

    it('should deliver a record an earlier version marked queued (records from before an upgrade)', async () => {
      const { job, email, id } = await insertRecord('queued');
      await expect(
        worker.moduleRef.get(DeliveryService).deliver(QueueName.Email, job, worker.moduleRef.get(EmailChannel)),
      ).resolves.toBe('sent');
      expect(sink.mails(email)).toHaveLength(1);
      expect((await recordOf(t.dataSource, id)).delivery_status).toBe('sent');
    });

    it('should skip a record that expired by the worker clock', async () => {
      const { job, email } = await insertRecord('pending');
      const later = { now: () => new Date(Date.now() + 10 * 60_000) };
      const delivery = new DeliveryService(
        worker.moduleRef.get(DeliveryAttemptsRepository),
        new SecretBox(t.config),
        worker.moduleRef.get(VerificationSecrets),
        later,
      );
      await expect(delivery.deliver(QueueName.Email, job, worker.moduleRef.get(EmailChannel))).resolves.toBe(
        'skipped:expired',
      );
      expect(sink.mails(email)).toHaveLength(0);
    });

    it('should mark the record failed when its job fails before any delivery (no handler for the job name)', async () => {
      const { job, id } = await insertRecord('pending');
      const queue = new Queue(QueueName.Email, {
        connection: { url: t.config.redis.url },
        prefix: queuePrefix(t.config.redis.prefix, QueueName.Email),
      });
      try {
        // eslint-disable-next-line no-restricted-syntax -- a job no producer would create, to fail outside DeliveryService
        await queue.add('unknown-job', job.data, { jobId: `unknown-${id}`, removeOnFail: false });
        await waitForStatus(t.dataSource, id, 'failed');
        expect((await queue.getJob(`unknown-${id}`))!.failedReason).toBe(
          'No handler for job unknown-job on queue email',
        );
        expect(await attemptsOf(t.dataSource, id)).toEqual([]);
      } finally {
        await queue.close();
      }
    });

    it('should not send again when the send succeeded but recording it failed', async () => {
      const { job, email } = await insertRecord('pending');
      const repo = worker.moduleRef.get(DeliveryAttemptsRepository);
      const failingRecord = Object.assign(Object.create(repo) as DeliveryAttemptsRepository, {
        succeed: () => Promise.reject(new Error('connection terminated')),
      });
      const delivery = new DeliveryService(
        failingRecord,
        new SecretBox(t.config),
        worker.moduleRef.get(VerificationSecrets),
        worker.moduleRef.get(Clock),
      );
      await expect(delivery.deliver(QueueName.Email, job, worker.moduleRef.get(EmailChannel))).rejects.toBeInstanceOf(
        UnrecoverableError,
      );
      expect(sink.mails(email)).toHaveLength(1);
    });

    it('should read records delivered at the same time together, each with its own state', async () => {
      const repo = worker.moduleRef.get(DeliveryAttemptsRepository);
      const [live, sent, expired] = await Promise.all(
        ['pending', 'sent', 'expired'].map((state) => insertRecord(state)),
      );
      const now = new Date();
      const inAnHour = new Date(now.getTime() + 3_600_000);

      const starts = await Promise.all([
        repo.begin(sent.id, now),
        repo.begin(live.id, now),
        repo.begin(expired.id, now),
        repo.begin('0'.repeat(24), now),
        repo.begin(live.id, inAnHour),
      ]);
      expect(starts.map((s) => s.skip)).toEqual(['sent', null, 'expired', 'missing', 'expired']);
      expect(starts[1]).toMatchObject({ target: { verificationId: live.id, identifier: live.email, send: 'code' } });
    });

    it('should record successes that finish together each with its own outcome, and a record twice in them as sent once', async () => {
      const repo = worker.moduleRef.get(DeliveryAttemptsRepository);
      const [a, b, c] = await Promise.all(['pending', 'pending', 'pending'].map((state) => insertRecord(state)));
      const log = (id: string, attempt: number) => ({
        verificationId: id,
        queue: 'email',
        attempt,
        provider: 'smtp',
        startedAt: new Date(),
      });

      // The first goes out alone; the three that arrive meanwhile share the next statement.
      const outcomes = await Promise.all([
        repo.succeed(log(c.id, 1), 'c-1', codeHmacOf(c.id), new Date()),
        repo.succeed(log(a.id, 1), 'a-1', codeHmacOf(a.id), new Date()),
        repo.succeed(log(b.id, 1), 'b-1', codeHmacOf(b.id), new Date()),
        repo.succeed(log(a.id, 2), 'a-2', codeHmacOf(a.id), new Date()),
      ]);
      expect(outcomes).toEqual([true, true, true, false]);
      expect((await recordOf(t.dataSource, a.id)).provider_message_id).toBe('a-1');
      expect((await attemptsOf(t.dataSource, a.id)).map((row) => [row.attempt, row.outcome])).toEqual([
        [1, 'sent'],
        [2, 'duplicate'],
      ]);
      for (const { id } of [b, c]) expect((await recordOf(t.dataSource, id)).delivery_status).toBe('sent');
    });

    it('should record a second success as a duplicate and keep the first provider id', async () => {
      const { job, email, id } = await insertRecord('pending');
      const delivery = worker.moduleRef.get(DeliveryService);
      const channel = worker.moduleRef.get(EmailChannel);
      await expect(delivery.deliver(QueueName.Email, job, channel)).resolves.toBe('sent');
      const first = await recordOf(t.dataSource, id);
      // A concurrent delivery that loaded the record before the first one finished:
      const repo = worker.moduleRef.get(DeliveryAttemptsRepository);
      const log = { verificationId: id, queue: 'email', attempt: 2, provider: 'smtp', startedAt: new Date() };
      await expect(repo.succeed(log, 'other-id', codeHmacOf(id), new Date())).resolves.toBe(false);
      expect((await recordOf(t.dataSource, id)).provider_message_id).toBe(first.provider_message_id);
      expect((await attemptsOf(t.dataSource, id)).map((a) => a.outcome)).toEqual(['sent', 'duplicate']);
      expect(sink.mails(email)).toHaveLength(1);
    });
  });
});
