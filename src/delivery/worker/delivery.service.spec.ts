import { UnrecoverableError, type Job } from 'bullmq';
import { Clock } from '../../common/clock';
import { RandomSource } from '../../common/random.source';
import { loadConfig } from '../../config/app-config';
import { SecretBox, type DeliverySecret } from '../../verification/secret-box';
import { SecretHasher } from '../../verification/secret-hasher';
import { VerificationSecrets } from '../../verification/verification-secrets';
import { QueueName, SENT_UNRECORDED, type DeliveryJobData } from '../delivery.constants';
import type { DeliveryChannel, DeliveryTarget } from './delivery-channel';
import type { AttemptLog, DeliveryAttemptsRepository, DeliveryStart } from './delivery-attempts.repository';
import { DeliveryError } from './delivery-error';
import { DeliveryService } from './delivery.service';

const ID = 'a1b2c3d4e5f6a1b2c3d4e5f6';
const CODE = '482913';

describe(DeliveryService.name, () => {
  const config = loadConfig({ NODE_ENV: 'test' });
  const box = new SecretBox(config);
  const secrets = new VerificationSecrets(new SecretHasher(config), box, new RandomSource());
  const target = { verificationId: ID, identifier: 'ann@example.com' } as DeliveryTarget;

  /** The repository as the service sees it: what `begin` answers, and every outcome it was asked to record. */
  let start: DeliveryStart;
  let succeedFailures: number;
  let recorded: Array<{
    outcome: 'sent' | 'fail';
    log: AttemptLog;
    codeHmac?: string;
    error?: string;
    final?: boolean;
  }>;
  let attempts: DeliveryAttemptsRepository;
  /** Every message handed to the channel, with the secret it carried. */
  let sent: DeliverySecret[];
  let sendResult: () => Promise<{ providerMessageId: string | null }>;
  let channel: DeliveryChannel;
  let sut: DeliveryService;

  const job = (attemptsMade = 0, sealedSecret = box.seal(ID, { code: CODE })) =>
    ({
      data: { verificationId: ID, sealedSecret },
      attemptsMade,
      attemptsStarted: attemptsMade + 1,
      opts: { attempts: 3 },
    }) as unknown as Job<DeliveryJobData>;

  beforeEach(() => {
    start = { skip: null, target };
    succeedFailures = 0;
    recorded = [];
    sent = [];
    sendResult = () => Promise.resolve({ providerMessageId: 'SM123' });
    attempts = {
      begin: () => Promise.resolve(start),
      succeed: (log: AttemptLog, _id: string | null, codeHmac: string) => {
        if (succeedFailures-- > 0) return Promise.reject(new Error('connection terminated'));
        recorded.push({ outcome: 'sent', log, codeHmac });
        return Promise.resolve(recorded.filter((r) => r.outcome === 'sent').length === 1);
      },
      fail: (log: AttemptLog, error: string, final: boolean) => {
        recorded.push({ outcome: 'fail', log, error, final });
        return Promise.resolve();
      },
    } as unknown as DeliveryAttemptsRepository;
    channel = {
      provider: 'smtp',
      send: (_target, secret) => {
        sent.push(secret);
        return sendResult();
      },
    };
    sut = new DeliveryService(attempts, box, secrets, new Clock());
  });

  it('should send the opened code once and record it under the code’s HMAC', async () => {
    await expect(sut.deliver(QueueName.Email, job(), channel)).resolves.toBe('sent');
    expect(sent).toEqual([{ code: CODE }]);
    expect(recorded).toEqual([
      {
        outcome: 'sent',
        log: expect.objectContaining({ verificationId: ID, queue: 'email', attempt: 1, provider: 'smtp' }),
        codeHmac: secrets.codeHmac(ID, CODE),
      },
    ]);
  });

  it('should answer duplicate when the record was already settled by another delivery', async () => {
    await sut.deliver(QueueName.Email, job(), channel);
    await expect(sut.deliver(QueueName.Email, job(), channel)).resolves.toBe('duplicate');
  });

  it('should skip a record that no longer needs the message, without sending', async () => {
    start = { skip: 'superseded' };
    await expect(sut.deliver(QueueName.Email, job(), channel)).resolves.toBe('skipped:superseded');
    expect(sent).toEqual([]);
    expect(recorded).toEqual([]);
  });

  it('should record a transient failure as not final and rethrow it for a retry, never with the code in it', async () => {
    sendResult = () => Promise.reject(new Error(`SMTP 421 while sending ${CODE}`));
    const thrown = await sut.deliver(QueueName.Email, job(0), channel).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(DeliveryError);
    expect(thrown).not.toBeInstanceOf(UnrecoverableError);
    expect(recorded).toEqual([
      expect.objectContaining({ outcome: 'fail', final: false, error: 'Error: SMTP 421 while sending [redacted]' }),
    ]);
  });

  it('should mark the last attempt final', async () => {
    sendResult = () => Promise.reject(new DeliveryError('SMTP 451', false));
    await expect(sut.deliver(QueueName.Email, job(2), channel)).rejects.toBeInstanceOf(DeliveryError);
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'fail', final: true, error: 'SMTP 451' })]);
  });

  it('should stop retrying at once on a permanent failure', async () => {
    sendResult = () => Promise.reject(new DeliveryError('SMTP 550 on RCPT TO', true));
    await expect(sut.deliver(QueueName.Email, job(0), channel)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'fail', final: true })]);
  });

  it('should fail permanently without sending when the sealed secret cannot be opened', async () => {
    const tampered = box.seal('another-record-id-000000', { code: CODE });
    await expect(sut.deliver(QueueName.Email, job(0, tampered), channel)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(sent).toEqual([]);
    expect(recorded).toEqual([
      expect.objectContaining({
        outcome: 'fail',
        final: true,
        error: expect.stringContaining('cannot be opened with CODE_ENCRYPTION_KEY'),
      }),
    ]);
  });

  describe('when the outcome of a sent message cannot be recorded', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('should retry the record briefly and then succeed, sending once', async () => {
      succeedFailures = 2;
      const delivering = sut.deliver(QueueName.Email, job(), channel);
      await jest.runAllTimersAsync();
      await expect(delivering).resolves.toBe('sent');
      expect(sent).toHaveLength(1);
    });

    it('should end the job without retry, naming the provider id, so the reconciler marks the record sent', async () => {
      succeedFailures = 3;
      const delivering = sut.deliver(QueueName.Email, job(), channel).catch((err: unknown) => err);
      await jest.runAllTimersAsync();
      const thrown = (await delivering) as Error;
      expect(thrown).toBeInstanceOf(UnrecoverableError);
      expect(SENT_UNRECORDED.exec(thrown.message)?.[1]).toBe('SM123');
      expect(sent).toHaveLength(1);
    });
  });
});
