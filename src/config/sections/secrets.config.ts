import { IsOptional, IsString, Matches, MinLength } from 'class-validator';
import { configSection } from '../config-section';
import { commaList } from '../env-transforms';

const DEV_CODE_HASH_SECRET = 'development-only-code-hash-secret-do-not-use-in-production';
const KEY = /^[A-Za-z0-9+/]{43}=$/;
const KEYS = /^[A-Za-z0-9+/]{43}=(\s*,\s*[A-Za-z0-9+/]{43}=)*$/;
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64'); // development only, see docs/configuration.md

class SecretsVars {
  @IsOptional() @IsString() @MinLength(32) CODE_HASH_SECRET?: string;
  @IsOptional()
  @Matches(KEY, { message: '32 random bytes in base64 (44 characters ending in =)' })
  CODE_ENCRYPTION_KEY?: string;
  /** Previous keys, comma-separated: still accepted to open what they sealed; only CODE_ENCRYPTION_KEY seals. */
  @IsOptional()
  @Matches(KEYS, { message: 'a comma-separated list of 32-byte base64 keys' })
  CODE_ENCRYPTION_KEYS?: string;
}

export interface SecretsConfig {
  readonly secrets: {
    codeHashSecret: string;
    /** Seals. */
    encryptionKey: Buffer;
    /** Previous keys (CODE_ENCRYPTION_KEYS), tried after encryptionKey when opening. */
    previousEncryptionKeys: Buffer[];
    usingDevelopmentDefaults: boolean;
  };
}

export const secretsSection = configSection({
  vars: SecretsVars,
  problems: (vars, { production }) => [
    ...(production && !vars.CODE_HASH_SECRET
      ? ['CODE_HASH_SECRET: at least 32 characters, required in production']
      : []),
    ...(production && !vars.CODE_ENCRYPTION_KEY
      ? ['CODE_ENCRYPTION_KEY: 32 random bytes in base64, required in production']
      : []),
  ],
  build: (vars): SecretsConfig => ({
    secrets: {
      codeHashSecret: vars.CODE_HASH_SECRET ?? DEV_CODE_HASH_SECRET,
      encryptionKey: Buffer.from(vars.CODE_ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY, 'base64'),
      previousEncryptionKeys: commaList(vars.CODE_ENCRYPTION_KEYS).map((key) => Buffer.from(key, 'base64')),
      usingDevelopmentDefaults: !vars.CODE_HASH_SECRET || !vars.CODE_ENCRYPTION_KEY,
    },
  }),
});
