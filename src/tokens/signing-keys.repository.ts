import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface StoredSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
}

type Row = { kid: string; alg: string; public_jwk: Record<string, unknown>; private_key_sealed: string };

/** Arbitrary but fixed: replicas booting together contend for it so only one generates the development key. */
const KEY_GENERATION_LOCK = 724_104_312;

@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The stored keys, newest first; when there are none, `generate` runs once (under a lock) and its key is stored. */
  async loadOrCreate(generate: () => Promise<StoredSigningKey>): Promise<StoredSigningKey[]> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_GENERATION_LOCK]);
      const rows: Row[] = await manager.query(
        'SELECT kid, alg, public_jwk, private_key_sealed FROM signing_keys ORDER BY created_at DESC, kid',
      );
      if (rows.length > 0)
        return rows.map((r) => ({
          kid: r.kid,
          alg: r.alg,
          publicJwk: r.public_jwk,
          privateKeySealed: r.private_key_sealed,
        }));
      const key = await generate();
      await manager.query(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_key_sealed) VALUES ($1, $2, $3, $4)',
        [key.kid, key.alg, JSON.stringify(key.publicJwk), key.privateKeySealed],
      );
      return [key];
    });
  }
}
