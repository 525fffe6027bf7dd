import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CommonModule } from '../../common/common.module';
import { AppConfig, workerConfigProblems } from '../../config/app-config';
import { ConfigModule } from '../../config/config.module';
import { DatabaseModule } from '../../database/database.module';
import { HealthModule } from '../../health/health.module';
import { RedisModule } from '../../redis/redis.module';
import { VerificationModule } from '../../verification/verification.module';
import { QueueName } from '../delivery.constants';
import { RelayModule } from '../relay.module';
import { EmailChannel } from '../email/email.channel';
import { EMAIL_PROVIDER } from '../email/email.provider';
import { LogEmailProvider } from '../email/log-email.provider';
import { SmtpEmailProvider } from '../email/smtp-email.provider';
import { HttpGatewaySmsProvider } from '../sms/http-gateway-sms.provider';
import { LogSmsProvider } from '../sms/log-sms.provider';
import { SmsChannel } from '../sms/sms.channel';
import { SMS_PROVIDER } from '../sms/sms.provider';
import { TwilioSmsProvider } from '../sms/twilio-sms.provider';
import { MessageRenderer } from '../templates/message-renderer';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository';
import { deliveryProcessorFor } from './delivery.processor';
import { DeliveryService } from './delivery.service';
import { WorkerHealthServer } from './worker-health.server';
import { WorkerRunner } from './worker-runner';

const SMS_PROVIDERS = { twilio: TwilioSmsProvider, http: HttpGatewaySmsProvider, log: LogSmsProvider } as const;
const EMAIL_PROVIDERS = { smtp: SmtpEmailProvider, log: LogEmailProvider } as const;

/** The worker process (src/worker.ts): one processor per queue in WORKER_QUEUES, and only that queue's providers. */
@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    const problems = workerConfigProblems(config);
    if (problems.length > 0) throw new Error(`Invalid worker configuration: ${problems.join('; ')}`);
    const { worker } = config;
    const options = (queue: QueueName) => ({
      concurrency: worker.concurrency[queue],
      lockDurationMs: worker.lockDurationMs,
      stalledIntervalMs: worker.stalledIntervalMs,
    });
    const providers: Provider[] = [
      DeliveryService,
      DeliveryAttemptsRepository,
      MessageRenderer,
      WorkerRunner,
      WorkerHealthServer,
    ];
    if (worker.queues.includes(QueueName.Email)) {
      providers.push(EmailChannel, { provide: EMAIL_PROVIDER, useClass: EMAIL_PROVIDERS[config.email.provider] });
      providers.push(deliveryProcessorFor(QueueName.Email, options(QueueName.Email)));
    }
    if (worker.queues.includes(QueueName.Sms)) {
      providers.push(SmsChannel, { provide: SMS_PROVIDER, useClass: SMS_PROVIDERS[config.sms.provider] });
      providers.push(deliveryProcessorFor(QueueName.Sms, options(QueueName.Sms)));
    }
    return {
      module: WorkerModule,
      imports: [
        ConfigModule,
        CommonModule,
        DatabaseModule.forRoot({ genericPlans: true }),
        RedisModule,
        HealthModule,
        VerificationModule,
        DiscoveryModule,
        BullModule.forRootAsync({
          inject: [AppConfig],
          // Blocking worker connections must retry forever rather than fail a command (BullMQ requirement).
          useFactory: (c: AppConfig) => ({
            prefix: c.redis.prefix,
            connection: { url: c.redis.url, maxRetriesPerRequest: null },
          }),
        }),
        // Registering the queues also brings in @nestjs/bullmq's explorer, which creates the processors' workers.
        BullModule.registerQueue(...worker.queues.map((name) => ({ name }))),
        ...(worker.runRelay ? [RelayModule] : []),
      ],
      providers,
    };
  }
}
