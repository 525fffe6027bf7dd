import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toBool, toInt } from '../env-transforms';

class RuntimeVars {
  @IsIn(['development', 'test', 'production']) NODE_ENV = 'development';
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL = 'log';
  /** Read by loadConfig into BootContext (the sections that need it); declared here to be validated. */
  @Transform(toBool) @IsBoolean() ALLOW_DEVELOPMENT_KEYS = false;
  /** After SIGTERM, a process that has not stopped by then exits anyway (below the orchestrator's kill delay). */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) SHUTDOWN_GRACE_MS = 8000;
  /** Prometheus `GET /metrics` on its own listener; unset: no metrics are kept. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) METRICS_PORT?: number;
  @IsString() METRICS_HOST = '0.0.0.0';
}

export interface RuntimeConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  readonly shutdownGraceMs: number;
  readonly metrics?: { port: number; host: string };
}

export const runtimeSection = configSection({
  vars: RuntimeVars,
  build: (vars): RuntimeConfig => ({
    env: vars.NODE_ENV as RuntimeConfig['env'],
    logLevel: vars.LOG_LEVEL as RuntimeConfig['logLevel'],
    shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
    metrics: vars.METRICS_PORT ? { port: vars.METRICS_PORT, host: vars.METRICS_HOST } : undefined,
  }),
});
