import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import { queueForStrategy, type QueueName } from '../delivery/delivery.constants';
import { StartLimiter } from '../rate-limit/start.limiter';
import type { StartIpCharge } from '../rate-limit/start-ip.limiter';
import type { ConnectionEntity } from '../verification/connection.entity';
import { ConnectionsRepository } from '../verification/connections.repository';
import { RESERVED_LINK_PARAMS } from '../verification/magic-link';
import type { SendMode } from '../verification/verification.entity';
import { newRecordId } from '../verification/record-id';
import { VerificationSecrets } from '../verification/verification-secrets';
import { VerificationsRepository } from '../verification/verifications.repository';
import { normaliseEmail, normalisePhone } from '../verification/identifier';
import type { RequestMeta, StartResponse } from './passwordless.responses';
import type { StartPasswordlessDto } from './start-passwordless.dto';
import { StartAdmission } from './start-admission';
import { clientAuthErrors, startErrors } from '../common/auth0-errors';
import { annotateRequest, currentRequest } from '../observability/logging';
import { currentTraceparent } from '../observability/tracing';

interface AdmittedStart {
  client: ClientEntity;
  connection: ConnectionEntity;
  identifier: string;
  send: SendMode;
  authParams: Record<string, string>;
  meta: RequestMeta;
  queue: QueueName;
}

@Injectable()
export class PasswordlessService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly verifications: VerificationsRepository,
    private readonly secrets: VerificationSecrets,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly limiter: StartLimiter,
    private readonly admission: StartAdmission,
  ) {}

  /** `ipCharge`: the start's per-IP charge when it is still to be made (charged with the other limits, first). */
  async start(
    client: ClientEntity,
    dto: StartPasswordlessDto,
    meta: RequestMeta,
    ipCharge?: StartIpCharge,
  ): Promise<StartResponse> {
    if (!client.grantTypes.includes(PASSWORDLESS_OTP_GRANT)) {
      throw clientAuthErrors.grantNotAllowed(PASSWORDLESS_OTP_GRANT);
    }
    const connection = await this.connections.findByName(dto.connection);
    if (!connection) throw startErrors.connectionNotFound();
    if (!client.connections.includes(connection.name)) throw startErrors.connectionDisabled();

    const send = this.sendMode(connection, dto.send ?? undefined);
    const identifier = connection.strategy === 'email' ? normaliseEmail(dto.email) : normalisePhone(dto.phone_number);
    const authParams = this.linkParams(client, send, dto.authParams ?? undefined);
    const queue = queueForStrategy(connection.strategy);
    const admitted = this.admission.enter(queue);
    try {
      await this.limiter.admit(client, connection, identifier, meta.ip, ipCharge);
      return await this.create({ client, connection, identifier, send, authParams, meta, queue });
    } finally {
      admitted();
    }
  }

  /** Writes the admitted start: its record, superseding the live one, and its outbox row, in one commit. */
  private async create(start: AdmittedStart): Promise<StartResponse> {
    const { client, connection, identifier, send, authParams, meta, queue } = start;
    const now = this.clock.now();
    const id = newRecordId(now, this.random);
    const { codeHmac, linkTokenHmac, sealedSecret } = this.secrets.issue(id, connection.codeLength, send);
    // The request id and trace context travel with the job (absent keys when unset: JSON drops undefined).
    const payload = {
      verificationId: id,
      sealedSecret,
      requestId: currentRequest()?.requestId,
      acceptedAt: now.getTime(),
      traceparent: currentTraceparent(),
    };

    await this.verifications.createSupersedingPrevious(
      {
        id,
        clientId: client.clientId,
        connection: connection.name,
        identifier,
        send,
        codeHmac,
        linkTokenHmac,
        authParams,
        requestLanguage: meta.requestLanguage,
        expiresAt: new Date(now.getTime() + connection.codeLifetimeSeconds * 1000),
        requestIp: meta.ip,
      },
      { queue, payload },
      now,
    );
    // Committed with its outbox row (whose trigger wakes the relays): the 200 below already guarantees delivery.
    annotateRequest({ type: connection.strategy === 'email' ? 'cls' : 'cs', send });

    return connection.strategy === 'email'
      ? { _id: id, email: identifier, email_verified: false }
      : { _id: id, phone_number: identifier, phone_verified: false, request_language: meta.requestLanguage };
  }

  /** Auth0: a missing `send` means link for email; the SDKs omit it for SMS and expect a code. SMS is code-only. */
  private sendMode(connection: ConnectionEntity, requested: SendMode | undefined): SendMode {
    if (connection.strategy === 'sms') {
      if (requested === 'link') throw startErrors.linkOverSms();
      return 'code';
    }
    return requested ?? 'link';
  }

  /** authParams become link parameters; a redirect_uri must be one of the client's callback URLs (exact match). */
  private linkParams(
    client: ClientEntity,
    send: SendMode,
    authParams: Record<string, string | number | boolean> | undefined,
  ): Record<string, string> {
    const params = Object.fromEntries(
      Object.entries(authParams ?? {})
        .filter(([key]) => !RESERVED_LINK_PARAMS.includes(key))
        .map(([key, value]) => [key, String(value)]),
    );
    if (params.redirect_uri !== undefined && !client.callbacks.includes(params.redirect_uri)) {
      throw startErrors.redirectUriNotAllowed();
    }
    if (send === 'link' && params.redirect_uri === undefined) {
      const fallback = client.callbacks[0];
      if (!fallback) throw startErrors.redirectUriRequired();
      params.redirect_uri = fallback;
    }
    return params;
  }
}
