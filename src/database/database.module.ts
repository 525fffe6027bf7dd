import { type DynamicModule, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DependencyConnectError } from '../common/process-lifecycle';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions, type SessionOptions } from './data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from './migration-runner';

@Module({})
export class DatabaseModule implements OnModuleInit {
  private readonly logger = new Logger(DatabaseModule.name);

  constructor(private readonly config: AppConfig) {}

  static forRoot(session: SessionOptions = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          // Each feature module registers its own entities (TypeOrmModule.forFeature): this folder names none of them.
          useFactory: (config: AppConfig) => ({ ...dataSourceOptions(config, session), autoLoadEntities: true }),
          dataSourceFactory: async (options) => {
            const config = options as ReturnType<typeof dataSourceOptions> & { url: string };
            try {
              await ensureDatabaseExists(config.url);
              return await new DataSource(config).initialize();
            } catch (err) {
              throw new DependencyConnectError('Postgres', 'DATABASE_URL', config.url, err);
            }
          },
        }),
      ],
    };
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.migrationsRun) return;
    // A connection of its own, without the request timeouts.
    const migrator = await new DataSource(dataSourceOptions(this.config, { noTimeouts: true })).initialize();
    try {
      const applied = await runMigrationsLocked(migrator);
      if (applied.length > 0) this.logger.log(`Applied migrations: ${applied.join(', ')}`);
    } finally {
      await migrator.destroy();
    }
  }
}
