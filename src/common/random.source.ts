import { Injectable } from '@nestjs/common';
import { randomBytes, randomInt } from 'node:crypto';

/** The service's randomness, behind one injectable seam so tests can pin codes and ids. */
@Injectable()
export class RandomSource {
  /** Uniformly random decimal digits: crypto.randomInt rejects out-of-range draws, so there is no modulo bias. */
  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += randomInt(10).toString();
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
