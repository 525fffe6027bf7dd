import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { affectedRows } from '../database/affected-rows';

/** Login tickets of POST /co/authenticate: stored as HMACs, bound to the client, spent by /authorize once. */
@Injectable()
export class LoginTicketsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(
    ticket: { ticketHmac: string; clientId: string; userId: string; connection: string; expiresAt: Date },
    now: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO login_tickets (ticket_hmac, client_id, user_id, connection, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [ticket.ticketHmac, ticket.clientId, ticket.userId, ticket.connection, ticket.expiresAt, now],
    );
  }

  /** Single use: the DELETE that finds the live ticket of this client is the only one that gets its user. */
  async consume(ticketHmac: string, clientId: string, now: Date): Promise<string | undefined> {
    const rows: Array<{ user_id: string }> = await this.dataSource.query(
      `WITH t AS (
         DELETE FROM login_tickets WHERE ticket_hmac = $1 AND client_id = $2 AND expires_at > $3 RETURNING user_id
       ) SELECT user_id FROM t`,
      [ticketHmac, clientId, now],
    );
    return rows[0]?.user_id;
  }

  async deleteExpired(now: Date): Promise<number> {
    return affectedRows(this.dataSource, 'DELETE FROM login_tickets WHERE expires_at <= $1', [now]);
  }
}
