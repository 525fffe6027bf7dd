import 'reflect-metadata';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parentPort, workerData } from 'node:worker_threads';
import { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { loggerLevels } from '../common/logger-levels';
import { DeliveryProducerModule } from './delivery-producer.module';
import { OutboxRelay } from './outbox.relay';
import { RelayThreadMessage, type RelayThreadData } from './outbox-relay.host';

/**
 * Entry point of the outbox relay's worker thread (started by OutboxRelayHost in the API process): a Nest context with
 * its own Postgres pool and BullMQ connections, so moving rows to the queues costs the API's event loop nothing.
 */
async function run(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('outbox-relay.thread must run in a worker thread');
  const { config: shared, wakeFlag } = workerData as RelayThreadData;
  // The config arrives structured-cloned (a Buffer comes back as a plain Uint8Array); the relay needs few connections,
  // and the API process has already applied the migrations.
  const config: AppConfig = {
    ...shared,
    secrets: { ...shared.secrets, encryptionKey: Buffer.from(shared.secrets.encryptionKey) },
    databasePoolSize: 2,
    migrationsRun: false,
  };

  @Global()
  @Module({ providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] })
  class RelayConfigModule {}

  @Module({ imports: [RelayConfigModule, DatabaseModule, DeliveryProducerModule] })
  class RelayThreadModule {}

  const app = await NestFactory.createApplicationContext(RelayThreadModule, { logger: loggerLevels(config.logLevel) });
  const relay = app.get(OutboxRelay);
  // The flag stays set until a pass begins, not just until the wake-up arrives: a start that commits before the pass
  // takes its batch is in that batch and need not wake this thread, one that commits later posts a new wake-up (none
  // is lost). Under load passes are BUSY_PASS_INTERVAL_MS apart, so the API posts about one wake-up per pass instead of
  // one per group commit, each a syscall on its event loop and a context switch here (docs/benchmarks.md).
  relay.onPassStart(() => Atomics.store(wakeFlag, 0, 0));
  port.on('message', (message: RelayThreadMessage) => {
    if (message === RelayThreadMessage.Wake) {
      relay.wake();
    } else if (message === RelayThreadMessage.Stop) {
      void app.close().finally(() => port.close());
    }
  });
  port.postMessage(RelayThreadMessage.Ready);
}

run().catch((err: unknown) => {
  // The host sees the thread exit and starts a new one.
  console.error(`Outbox relay thread failed: ${(err as Error).message}`);
  process.exit(1);
});
