import { Test, type TestingModule } from '@nestjs/testing';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { WorkerModule } from '../../src/delivery/worker/worker.module';

export interface TestWorker {
  moduleRef: TestingModule;
  config: AppConfig;
  close(): Promise<void>;
}

/** Boots the real worker module in-process (as src/worker.ts does) against this run's Postgres and Redis. */
export async function startTestWorker(env: Record<string, string>): Promise<TestWorker> {
  const workerEnv = { ...process.env, WORKER_HEALTH_PORT: '0', ...env };
  const config = loadConfig(workerEnv);
  const moduleRef = await Test.createTestingModule({ imports: [WorkerModule.register(config, workerEnv)] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .compile();
  await moduleRef.init();
  return { moduleRef, config, close: () => moduleRef.close() };
}

/** A Redis key prefix of this run for one test file, so its workers never take another file's jobs. */
export const filePrefix = (name: string): string => `${process.env.REDIS_PREFIX}-${name}`;
