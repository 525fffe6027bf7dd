import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';

export interface DeliverySecret {
  code: string;
  linkToken?: string;
}

/**
 * AES-256-GCM envelope for the code on its way to a worker (outbox row, then Redis job). The record id is the
 * additional authenticated data, so a sealed value cannot be moved onto another record. Format: v1.<iv>.<tag>.<data>.
 */
@Injectable()
export class SecretBox {
  constructor(private readonly config: AppConfig) {}

  seal(recordId: string, secret: DeliverySecret): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.config.secrets.encryptionKey, iv);
    cipher.setAAD(Buffer.from(recordId));
    const data = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), data].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(recordId: string, sealed: string): DeliverySecret {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || !data) throw new Error('Unsupported sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.config.secrets.encryptionKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(recordId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as DeliverySecret;
  }
}
