import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type SendMode = 'code' | 'link';
/**
 * `pending` until a worker settles the delivery (`sent`, or `failed` after its last attempt). `queued` is never
 * written but may be found in existing rows; it means what `pending` means
 * (docs/decisions/007-records-stay-pending-until-a-worker-settles-them.md).
 */
export type DeliveryStatus = 'pending' | 'queued' | 'sent' | 'failed';

/**
 * One row per accepted POST /passwordless/start. The code and link token are stored only as HMACs keyed with the
 * server secret; a new start for the same client + connection + identifier supersedes the earlier pending row.
 */
@Entity({ name: 'verifications' })
export class VerificationEntity {
  /** 24 hex characters, returned as `_id` like Auth0's request id. */
  @PrimaryColumn({ type: 'char', length: 24 }) id!: string;
  @Column({ name: 'client_id', type: 'varchar', length: 64 }) clientId!: string;
  @Column({ type: 'varchar', length: 64 }) connection!: string;
  /** Lower-cased email or E.164 phone number. */
  @Column({ type: 'varchar', length: 320 }) identifier!: string;
  @Column({ type: 'varchar', length: 8 }) send!: SendMode;
  @Column({ name: 'code_hmac', type: 'char', length: 64 }) codeHmac!: string;
  @Column({ name: 'link_token_hmac', type: 'char', length: 64, nullable: true }) linkTokenHmac!: string | null;
  @Column({ name: 'auth_params', type: 'jsonb', default: () => "'{}'" }) authParams!: Record<string, string>;
  @Column({ name: 'request_language', type: 'varchar', length: 35, nullable: true }) requestLanguage!: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt!: Date;
  @Column({ name: 'failed_attempts', type: 'int', default: 0 }) failedAttempts!: number;
  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true }) consumedAt!: Date | null;
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true }) supersededAt!: Date | null;
  @Column({ name: 'delivery_status', type: 'varchar', length: 16, default: 'pending' }) deliveryStatus!: DeliveryStatus;
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true }) deliveredAt!: Date | null;
  @Column({ name: 'provider_message_id', type: 'varchar', length: 255, nullable: true }) providerMessageId!:
    string | null;
  @Column({ name: 'request_ip', type: 'varchar', length: 45, nullable: true }) requestIp!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
