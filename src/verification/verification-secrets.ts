import { Injectable } from '@nestjs/common';
import { RandomSource } from '../common/random.source';
import { SecretBox } from './secret-box';
import { SecretHasher } from './secret-hasher';
import type { SendMode } from './verification.entity';

/** 256-bit link token: well above the 128-bit floor for bearer secrets in URLs (RFC 6749 §10.10). */
const LINK_TOKEN_BYTES = 32;

/** A record's one-time secrets as stored (HMACs only) and as sealed for the worker that sends them. */
export interface IssuedSecrets {
  codeHmac: string;
  linkTokenHmac: string | null;
  sealedSecret: string;
}

/** Draws a fresh code (and link token) for a record: at a start, and when a lost delivery is issued again. */
@Injectable()
export class VerificationSecrets {
  constructor(
    private readonly hasher: SecretHasher,
    private readonly box: SecretBox,
    private readonly random: RandomSource,
  ) {}

  issue(recordId: string, codeLength: number, send: SendMode): IssuedSecrets {
    const code = this.random.digits(codeLength);
    const linkToken = send === 'link' ? this.random.token(LINK_TOKEN_BYTES) : undefined;
    return {
      codeHmac: this.hasher.hash(recordId, 'code', code),
      linkTokenHmac: linkToken === undefined ? null : this.hasher.hash(recordId, 'link', linkToken),
      sealedSecret: this.box.seal(recordId, { code, linkToken }),
    };
  }

  /** The HMAC a sent code is stored under: a worker's success counts only for the code the record still holds. */
  codeHmac(recordId: string, code: string): string {
    return this.hasher.hash(recordId, 'code', code);
  }
}
