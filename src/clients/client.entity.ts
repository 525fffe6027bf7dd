import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ClientRateLimits } from '../config/sections/rate-limit.config';

export const PASSWORDLESS_OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';

export type AppType = 'regular_web' | 'spa' | 'native' | 'non_interactive';
export const APP_TYPES: readonly AppType[] = ['regular_web', 'spa', 'native', 'non_interactive'];

export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';
export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'none',
  'client_secret_post',
  'client_secret_basic',
  'private_key_jwt',
];

/** JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** A public JWK as registered for private_key_jwt (RFC 7517). */
export type PublicJwk = { kty: string; kid?: string; alg?: string; use?: string } & Record<string, unknown>;

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 }) clientId!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ name: 'app_type', type: 'varchar', length: 20 }) appType!: AppType;
  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 }) authMethod!: TokenEndpointAuthMethod;
  /** `sha256:<hex>` of the secret; the plaintext is shown once by `npm run client:new` and never stored. */
  @Column({ name: 'client_secret_hash', type: 'text', nullable: true }) secretHash!: string | null;
  @Column({ type: 'jsonb', nullable: true }) jwks!: { keys: PublicJwk[] } | null;
  @Column({ type: 'jsonb', default: () => "'[]'" }) callbacks!: string[];
  @Column({ name: 'grant_types', type: 'jsonb', default: () => "'[]'" }) grantTypes!: string[];
  @Column({ name: 'connections', type: 'jsonb', default: () => "'[]'" }) connections!: string[];
  /** Auth0's Allowed Web Origins: exact origins (`scheme://host[:port]`), also allowed for CORS. */
  @Column({ name: 'web_origins', type: 'jsonb', default: () => "'[]'" }) webOrigins!: string[];
  /** Auth0's Allowed Origins (CORS): exact origins whose scripts may call the API with this client_id. */
  @Column({ name: 'allowed_origins', type: 'jsonb', default: () => "'[]'" }) allowedOrigins!: string[];
  /** Auth0's Allowed Logout URLs: where /v2/logout and /oidc/logout may send the browser afterwards. */
  @Column({ name: 'allowed_logout_urls', type: 'jsonb', default: () => "'[]'" }) allowedLogoutUrls!: string[];
  /** Overrides of the env rate limits for this client (docs/operations.md); invalid entries are ignored. */
  @Column({ name: 'rate_limits', type: 'jsonb', default: () => "'{}'" }) rateLimits!: Partial<ClientRateLimits>;
  /** Auth0's "Trust Token Endpoint IP Header": the end user's IP from `auth0-forwarded-for` (confidential only). */
  @Column({ name: 'trust_forwarded_for', type: 'boolean', default: false }) trustForwardedFor!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
