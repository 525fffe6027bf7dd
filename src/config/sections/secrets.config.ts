import { IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { configSection } from '../config-section';

const DEV_CODE_HASH_SECRET = 'development-only-code-hash-secret-do-not-use-in-production';
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64'); // development only, see docs/configuration.md

class SecretsVars {
  @IsOptional() @IsString() @MinLength(32) CODE_HASH_SECRET?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64' }) CODE_ENCRYPTION_KEY?: string;
}

export interface SecretsConfig {
  readonly secrets: { codeHashSecret: string; encryptionKey: Buffer; usingDevelopmentDefaults: boolean };
}

export const secretsSection = configSection({
  vars: SecretsVars,
  problems: (vars, { production }) => [
    ...(production && !vars.CODE_HASH_SECRET ? ['CODE_HASH_SECRET (required in production)'] : []),
    ...(production && !vars.CODE_ENCRYPTION_KEY ? ['CODE_ENCRYPTION_KEY (required in production)'] : []),
  ],
  build: (vars): SecretsConfig => ({
    secrets: {
      codeHashSecret: vars.CODE_HASH_SECRET ?? DEV_CODE_HASH_SECRET,
      encryptionKey: Buffer.from(vars.CODE_ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY, 'base64'),
      usingDevelopmentDefaults: !vars.CODE_HASH_SECRET || !vars.CODE_ENCRYPTION_KEY,
    },
  }),
});
