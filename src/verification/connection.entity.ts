import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ConnectionStrategy = 'email' | 'sms';

/** Per-language overrides of the message templates (Liquid), keyed by language tag or `default`. */
export type ConnectionTemplates = Record<string, { subject?: string; html?: string; text?: string; sms?: string }>;

@Entity({ name: 'connections' })
export class ConnectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) name!: string;
  @Column({ type: 'varchar', length: 10 }) strategy!: ConnectionStrategy;
  @Column({ name: 'code_length', type: 'int', default: 6 }) codeLength!: number;
  @Column({ name: 'code_lifetime_seconds', type: 'int', default: 180 }) codeLifetimeSeconds!: number;
  @Column({ name: 'max_attempts', type: 'int', default: 3 }) maxAttempts!: number;
  /** From address (email) or sender id / number (sms). */
  @Column({ type: 'text' }) sender!: string;
  @Column({ type: 'jsonb', default: () => "'{}'" }) templates!: ConnectionTemplates;
  /** SMS only: calling codes this connection may send to (`["1","44"]`); null uses SMS_ALLOWED_CALLING_CODES. */
  @Column({ name: 'allowed_calling_codes', type: 'jsonb', nullable: true }) allowedCallingCodes!: string[] | null;
}
