import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CommonModule } from '../../common/common.module';
import { AppConfig, workerConfigProblems } from '../../config/app-config';
import { ConfigModule } from '../../config/config.module';
import { DatabaseModule } from '../../database/database.module';
import { HealthModule } from '../../health/health.module';
import { RedisConnections, RedisModule } from '../../redis/redis.module';
import { VerificationModule } from '../../verification/verification.module';
import { QueueName, queuePrefix } from '../delivery.constants';
import { RelayModule } from '../relay.module';
import { EmailChannel } from '../email/email.channel';
import { EMAIL_PROVIDERS } from '../email/email-providers';
import { EMAIL_PROVIDER } from '../email/email.provider';
import { resolveDeliveryProvider } from '../delivery-provider';
import { SmsChannel } from '../sms/sms.channel';
import { SMS_PROVIDERS } from '../sms/sms-providers';
import { SMS_PROVIDER } from '../sms/sms.provider';
import { MessageRenderer } from '../templates/message-renderer';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository';
import { deliveryProcessorFor } from './delivery.processor';
import { DeliveryService } from './delivery.service';
import { WorkerHealthServer } from './worker-health.server';
import { QueueBoardServer } from './queue-board.server';
import { WorkerRunner } from './worker-runner';

/**
 * What a worker consuming `config.worker.queues` sends with: each queue's channel, its provider (chosen and configured
 * from `env`) and its processor; or the problems, naming keys only.
 */
export function workerProviders(
  config: AppConfig,
  env: NodeJS.ProcessEnv,
): { providers: Provider[]; problems: string[] } {
  const { worker } = config;
  const options = (queue: QueueName) => ({
    concurrency: worker.concurrency[queue],
    lockDurationMs: worker.lockDurationMs,
    stalledIntervalMs: worker.stalledIntervalMs,
  });
  const channels = [
    {
      queue: QueueName.Email,
      channel: EmailChannel,
      token: EMAIL_PROVIDER,
      key: 'EMAIL_PROVIDER',
      name: config.email.provider,
      registered: EMAIL_PROVIDERS,
    },
    {
      queue: QueueName.Sms,
      channel: SmsChannel,
      token: SMS_PROVIDER,
      key: 'SMS_PROVIDER',
      name: config.sms.provider,
      registered: SMS_PROVIDERS,
    },
  ] as const;
  const providers: Provider[] = [];
  const problems = workerConfigProblems(config);
  for (const { queue, channel, token, key, name, registered } of channels) {
    if (!worker.queues.includes(queue)) continue;
    const resolved = resolveDeliveryProvider<unknown>(token, key, name, registered, env);
    problems.push(...resolved.problems);
    if (resolved.provider) providers.push(channel, resolved.provider, deliveryProcessorFor(queue, options(queue)));
  }
  return { providers, problems };
}

/** The worker process (src/worker.ts): one processor per queue in WORKER_QUEUES, and only that queue's providers. */
@Module({})
export class WorkerModule {
  static register(config: AppConfig, env: NodeJS.ProcessEnv = process.env): DynamicModule {
    const sending = workerProviders(config, env);
    if (sending.problems.length > 0) throw new Error(`Invalid worker configuration: ${sending.problems.join('; ')}`);
    const { worker } = config;
    const providers: Provider[] = [
      DeliveryService,
      DeliveryAttemptsRepository,
      MessageRenderer,
      WorkerRunner,
      WorkerHealthServer,
      QueueBoardServer,
      ...sending.providers,
    ];
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
          inject: [RedisConnections],
          // Worker connections must retry forever rather than fail a command (BullMQ requirement); each worker adds
          // its own blocking connection.
          useFactory: (connections: RedisConnections) => ({
            connection: connections.open({ maxRetriesPerRequest: null }),
          }),
        }),
        // Registering the queues also brings in @nestjs/bullmq's explorer, which creates the processors' workers.
        BullModule.registerQueue(
          ...worker.queues.map((name) => ({ name, prefix: queuePrefix(config.redis.prefix, name) })),
        ),
        ...(worker.runRelay ? [RelayModule] : []),
      ],
      providers,
    };
  }
}
