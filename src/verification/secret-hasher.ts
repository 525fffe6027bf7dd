import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../common/constant-time';
import { AppConfig } from '../config/app-config';

export type SecretPurpose = 'code' | 'link' | 'authorization_code' | 'refresh_token' | 'session' | 'login_ticket';

/**
 * Keyed hashing of one-time codes and link tokens. A 6-digit code has only 10^6 values, so a plain hash would be
 * reversed instantly from a database dump; an HMAC keyed with a server secret (kept out of the database) is not.
 * The record id and purpose are bound into the MAC so a value cannot be replayed against another record.
 */
@Injectable()
export class SecretHasher {
  constructor(private readonly config: AppConfig) {}

  hash(recordId: string, purpose: SecretPurpose, secret: string): string {
    return createHmac('sha256', this.config.secrets.codeHashSecret)
      .update(`${purpose}\0${recordId}\0${secret}`)
      .digest('hex');
  }

  /** Constant-time comparison of a candidate against a stored MAC (both fixed-length hex). */
  matches(recordId: string, purpose: SecretPurpose, candidate: string, storedHex: string): boolean {
    const expected = Buffer.from(storedHex, 'hex');
    const actual = Buffer.from(this.hash(recordId, purpose, candidate), 'hex');
    return constantTimeEqual(expected, actual);
  }
}
