import type { DataSource, EntityManager } from 'typeorm';

/** Runs an UPDATE/DELETE and returns how many rows it changed (TypeORM's postgres driver answers `[rows, count]`). */
export async function affectedRows(db: DataSource | EntityManager, sql: string, params: unknown[]): Promise<number> {
  const [, count] = await db.query<[unknown, number]>(sql, params);
  return count;
}
