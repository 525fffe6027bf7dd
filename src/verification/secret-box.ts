import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';

export interface DeliverySecret {
  code: string;
  linkToken?: string;
}

/** Sealed data that none of the configured keys opens: it was sealed with a key no longer configured, or altered. */
export class SealedDataKeyError extends Error {
  constructor(what: string) {
    super(
      `${what} cannot be opened with CODE_ENCRYPTION_KEY` +
        ' or any key in CODE_ENCRYPTION_KEYS: it was sealed with another key (put the previous key in' +
        ' CODE_ENCRYPTION_KEYS, see docs/operations.md "Rotating CODE_ENCRYPTION_KEY") or it was altered',
    );
  }
}

/**
 * AES-256-GCM envelope for the code on its way to a worker (outbox row, then Redis job). The record id is the
 * additional authenticated data, so a sealed value cannot be moved onto another record. Format: v1.<iv>.<tag>.<data>.
 */
@Injectable()
export class SecretBox {
  private readonly openingKeys: Buffer[];

  constructor(private readonly config: AppConfig) {
    this.openingKeys = [config.secrets.encryptionKey, ...config.secrets.previousEncryptionKeys];
  }

  seal(recordId: string, secret: DeliverySecret): string {
    return this.sealText(recordId, JSON.stringify(secret));
  }

  open(recordId: string, sealed: string): DeliverySecret {
    return JSON.parse(this.openText(recordId, sealed, `The code of record ${recordId}`)) as DeliverySecret;
  }

  /** Seals any text bound to `aad` (also used for the generated development signing key). */
  sealText(aad: string, text: string): string {
    // A 96-bit IV never used before with this key (NIST SP 800-38D §8.2.2: random IVs, far below 2^32 per key).
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.config.secrets.encryptionKey, iv);
    cipher.setAAD(Buffer.from(aad));
    const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** Tries the sealing key, then the previous keys (rotation); throws SealedDataKeyError naming `what` if none fits. */
  openText(aad: string, sealed: string, what = 'Sealed data'): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || !data) throw new Error('Unsupported sealed secret format');
    for (const key of this.openingKeys) {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // Authentication failed with this key: try the next one.
      }
    }
    throw new SealedDataKeyError(what);
  }
}
