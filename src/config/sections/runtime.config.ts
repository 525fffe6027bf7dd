import { IsIn } from 'class-validator';
import { configSection } from '../config-section';

class RuntimeVars {
  @IsIn(['development', 'test', 'production']) NODE_ENV = 'development';
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL = 'log';
}

export interface RuntimeConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
}

export const runtimeSection = configSection({
  vars: RuntimeVars,
  build: (vars): RuntimeConfig => ({
    env: vars.NODE_ENV as RuntimeConfig['env'],
    logLevel: vars.LOG_LEVEL as RuntimeConfig['logLevel'],
  }),
});
