import { Injectable } from '@nestjs/common';
import { randomBytes, randomFillSync, randomInt } from 'node:crypto';

/** One refill serves a few hundred starts (each draws 12 + 12 bytes, 32 more for a link). */
const POOL_BYTES = 4096;

/**
 * CSPRNG bytes drawn 4 KiB at a time: a randomFillSync call costs ~2.5 µs whatever its size, and every start draws
 * at least twice (record id, AES-GCM IV). Node caches entropy the same way for crypto.randomUUID. Each byte is handed
 * out once: the offset only moves forward, and the block is refilled whole once too little is left.
 */
class EntropyPool {
  private readonly pool = Buffer.alloc(POOL_BYTES);
  private offset = POOL_BYTES;

  /** `bytes` fresh random bytes as a string, read straight out of the pool (no intermediate Buffer). */
  encoded(bytes: number, encoding: 'hex' | 'base64url'): string {
    if (bytes > POOL_BYTES) return randomBytes(bytes).toString(encoding);
    const start = this.reserve(bytes);
    return this.pool.toString(encoding, start, start + bytes);
  }

  /** `bytes` fresh random bytes in a Buffer of their own (a copy: the pool is overwritten at the next refill). */
  buffer(bytes: number): Buffer {
    if (bytes > POOL_BYTES) return randomBytes(bytes);
    const start = this.reserve(bytes);
    return Buffer.from(this.pool.subarray(start, start + bytes));
  }

  private reserve(bytes: number): number {
    if (this.offset + bytes > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset += bytes;
    return start;
  }
}

/** The process's (or worker thread's: each has its own module instance) pool, shared by RandomSource and SecretBox. */
export const entropyPool = new EntropyPool();

@Injectable()
export class RandomSource {
  /** Uniformly random decimal digits; crypto.randomInt avoids the modulo bias of `byte % 10` (and caches entropy). */
  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += randomInt(0, 10).toString();
    return out;
  }

  /** URL-safe random token with `bytes` bytes of entropy (a magic link uses 32 bytes, above the 128-bit floor). */
  token(bytes: number): string {
    return entropyPool.encoded(bytes, 'base64url');
  }

  hex(bytes: number): string {
    return entropyPool.encoded(bytes, 'hex');
  }
}
