import { Injectable } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';

@Injectable()
export class RandomSource {
  /** Uniformly random decimal digits; crypto.randomInt avoids the modulo bias of `byte % 10`. */
  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += randomInt(0, 10).toString();
    return out;
  }

  /** URL-safe random token with `bytes` bytes of entropy (a magic link uses 32 bytes, above the 128-bit floor). */
  token(bytes: number): string {
    return randomBytes(bytes).toString('base64url');
  }

  hex(bytes: number): string {
    return randomBytes(bytes).toString('hex');
  }
}
