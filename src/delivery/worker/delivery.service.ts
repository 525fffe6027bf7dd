import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { Clock } from '../../common/clock';
import { metrics } from '../../observability/metrics';
import { SecretBox, type DeliverySecret } from '../../verification/secret-box';
import { VerificationSecrets } from '../../verification/verification-secrets';
import { sentUnrecordedReason, type DeliveryJobData, type QueueName } from '../delivery.constants';
import type { DeliveryChannel } from './delivery-channel';
import { DeliveryAttemptsRepository, type AttemptLog, type SkipReason } from './delivery-attempts.repository';
import { DeliveryError, sanitiseError } from './delivery-error';

const RECORD_TRIES = 3;
const RECORD_RETRY_DELAY_MS = 200;

export type DeliveryOutcome = 'sent' | 'duplicate' | `skipped:${SkipReason}`;

/**
 * One delivery attempt of one record. Transient failures are rethrown so BullMQ retries with backoff; permanent ones
 * become UnrecoverableError. The record turns `failed` only on the last attempt, and `sent` at most once.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly attempts: DeliveryAttemptsRepository,
    private readonly box: SecretBox,
    private readonly secrets: VerificationSecrets,
    private readonly clock: Clock,
  ) {}

  async deliver(queue: QueueName, job: Job<DeliveryJobData>, channel: DeliveryChannel): Promise<DeliveryOutcome> {
    const { verificationId, sealedSecret } = job.data;
    const log = {
      verificationId,
      queue,
      attempt: job.attemptsStarted || job.attemptsMade + 1,
      provider: channel.provider,
      startedAt: this.clock.now(),
    };
    const start = await this.attempts.begin(verificationId, log.startedAt);
    const counted = { queue, provider: channel.provider };
    if (start.skip) {
      this.logger.debug(`Skipping ${verificationId}: ${start.skip}`);
      metrics()?.deliveries.inc({ ...counted, outcome: 'skipped' });
      return `skipped:${start.skip}`;
    }

    let secret: DeliverySecret | undefined;
    let providerMessageId: string | null;
    try {
      // The code exists in plaintext only here, for the duration of the send.
      secret = this.open(verificationId, sealedSecret);
      ({ providerMessageId } = await channel.send(start.target, secret));
    } catch (err) {
      const permanent = err instanceof DeliveryError && err.permanent;
      const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const error = sanitiseError(err, [secret?.code, secret?.linkToken, sealedSecret]);
      await this.attempts.fail(log, error, final, this.clock.now());
      const outcome = permanent || final ? 'failed' : 'retry';
      metrics()?.deliveries.inc({ ...counted, outcome });
      // Auth0's `fn` (notification failed) on the last failure; a retry is a warning.
      this.logger.warn({
        msg: `Delivery of ${verificationId} failed (${permanent ? 'permanent' : final ? 'last attempt' : 'will retry'}): ${error}`,
        ...(outcome === 'failed' ? { type: 'fn' } : {}),
        verificationId,
        queue,
        provider: channel.provider,
        attempt: log.attempt,
      });
      if (permanent) throw new UnrecoverableError(error);
      throw new DeliveryError(error, false);
    }
    const sent = await this.recordSent(log, providerMessageId, this.secrets.codeHmac(verificationId, secret.code));
    const latencyMs = job.data.acceptedAt ? Date.now() - job.data.acceptedAt : undefined;
    const m = metrics();
    m?.deliveries.inc({ ...counted, outcome: sent ? 'sent' : 'duplicate' });
    if (sent && latencyMs !== undefined) m?.startToSent.observe({ queue }, latencyMs / 1000);
    this.logger.log({
      msg: sent ? `Delivered ${verificationId}` : `Delivered ${verificationId} again (already recorded)`,
      verificationId,
      queue,
      provider: channel.provider,
      attempt: log.attempt,
      ...(latencyMs !== undefined ? { latencyMs } : {}),
    });
    return sent ? 'sent' : 'duplicate';
  }

  /**
   * The message is out: a failure to record that must not make BullMQ send it again. A few quick tries, then the job
   * fails without retry rather than risk a second message: it stays in the failed set saying so, and the reconciler
   * marks the record sent from it.
   */
  private async recordSent(log: AttemptLog, providerMessageId: string | null, codeHmac: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempts.succeed(log, providerMessageId, codeHmac, this.clock.now());
      } catch (err) {
        if (attempt >= RECORD_TRIES) {
          this.logger.error(`Sent ${log.verificationId} but could not record it: ${(err as Error).message}`);
          throw new UnrecoverableError(sentUnrecordedReason(providerMessageId));
        }
        await new Promise((resolve) => setTimeout(resolve, RECORD_RETRY_DELAY_MS * attempt));
      }
    }
  }

  private open(verificationId: string, sealedSecret: string): DeliverySecret {
    try {
      return this.box.open(verificationId, sealedSecret);
    } catch (err) {
      // Wrong key or a tampered payload: retrying cannot help.
      throw new DeliveryError((err as Error).message, true);
    }
  }
}
