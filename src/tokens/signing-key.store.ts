import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { AppConfig, ConfigError } from '../config/app-config';
import type { SigningKeyInput } from '../config/sections/signing-key-input';
import { SecretBox } from '../verification/secret-box';
import { SigningKeysRepository } from './signing-keys.repository';

export const TOKEN_SIGNING_ALG = 'RS256';
/** NIST SP 800-57: RSA keys below 2048 bits are no longer acceptable for signatures. */
const MIN_RSA_BITS = 2048;

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/**
 * Token signing keys. Configured keys (SIGNING_KEYS) are all published in the JWKS, so tokens signed before a rotation
 * keep verifying; only the active one signs. Without configuration a development key is generated once and kept in
 * the `signing_keys` table, sealed with CODE_ENCRYPTION_KEY: every replica then signs with the same key and tokens
 * survive restarts, which a per-process or per-file key would not give a multi-replica deployment.
 */
@Injectable()
export class SigningKeyStore implements OnApplicationBootstrap {
  private readonly logger = new Logger(SigningKeyStore.name);
  private keys: SigningKey[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly repository: SigningKeysRepository,
    private readonly box: SecretBox,
  ) {}

  /** Bootstrap, not module init: DatabaseModule applies migrations (the signing_keys table) during module init. */
  async onApplicationBootstrap(): Promise<void> {
    const configured = this.config.tokens.signingKeys;
    this.keys = configured.length > 0 ? await this.importConfigured(configured) : await this.loadDevelopmentKeys();
  }

  /** The key new tokens are signed with. */
  activeKey(): SigningKey {
    return this.keys[0];
  }

  findPublicKey(kid: string | undefined): KeyObject | undefined {
    return this.keys.find((key) => key.kid === kid)?.publicKey;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  private async importConfigured(inputs: SigningKeyInput[]): Promise<SigningKey[]> {
    const keys: SigningKey[] = [];
    for (const [index, input] of inputs.entries()) {
      let privateKey: KeyObject;
      try {
        privateKey =
          'pem' in input
            ? createPrivateKey(input.pem)
            : createPrivateKey({ key: input.jwk as JsonWebKey, format: 'jwk' });
      } catch {
        throw new ConfigError(`Invalid configuration: SIGNING_KEYS[${index}] (not a private key)`);
      }
      keys.push(await toSigningKey(privateKey, input.kid, `SIGNING_KEYS[${index}]`));
    }
    if (new Set(keys.map((k) => k.kid)).size !== keys.length)
      throw new ConfigError('Invalid configuration: SIGNING_KEYS (duplicate kid)');
    const activeKid = this.config.tokens.activeKid ?? keys[0].kid;
    return [...keys.filter((k) => k.kid === activeKid), ...keys.filter((k) => k.kid !== activeKid)];
  }

  private async loadDevelopmentKeys(): Promise<SigningKey[]> {
    const stored = await this.repository.loadOrCreate(async () => {
      // Read from its PEM, not used as generated: Node 20 can deadlock when the generating job is garbage-collected
      // while the generated key's details are read (both take that key's mutex).
      const pem = generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS })
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString();
      const key = await toSigningKey(createPrivateKey(pem), undefined, 'generated key');
      this.logger.warn(
        `No SIGNING_KEYS configured: generated development signing key ${key.kid} (stored encrypted in signing_keys).`,
      );
      return {
        kid: key.kid,
        alg: TOKEN_SIGNING_ALG,
        publicJwk: key.publicJwk,
        privateKeySealed: this.box.sealText(`signing-key:${key.kid}`, pem),
      };
    });
    return Promise.all(
      stored.map((row) =>
        toSigningKey(createPrivateKey(openStoredKey(this.box, row.kid, row.privateKeySealed)), row.kid, row.kid),
      ),
    );
  }
}

/** Opens a stored development key; a key sealed with another CODE_ENCRYPTION_KEY stops the boot saying so. */
function openStoredKey(box: SecretBox, kid: string, sealed: string): string {
  try {
    return box.openText(`signing-key:${kid}`, sealed, `The generated signing key ${kid} (table signing_keys)`);
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}`);
  }
}

async function toSigningKey(privateKey: KeyObject, kid: string | undefined, label: string): Promise<SigningKey> {
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (privateKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    throw new ConfigError(
      `Invalid configuration: ${label} (must be an RSA key of at least ${MIN_RSA_BITS} bits for RS256)`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  const base = { kty: kty!, n: n!, e: e! };
  // RFC 7638 thumbprint as the default kid: stable for the key and unique across keys.
  const resolvedKid = kid ?? (await calculateJwkThumbprint(base));
  return {
    kid: resolvedKid,
    privateKey,
    publicKey,
    publicJwk: { ...base, kid: resolvedKid, alg: TOKEN_SIGNING_ALG, use: 'sig' },
  };
}
