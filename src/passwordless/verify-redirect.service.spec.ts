import { Clock } from '../common/clock';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import type { ClientsRepository } from '../clients/clients.repository';
import { tokenErrors } from '../common/auth0-errors';
import type { RandomSource } from '../common/random.source';
import type { AuthorizationResults, AuthorizedRequest } from '../oauth/authorization-results';
import { PasswordlessLoginService, type LoginAttempt } from '../oauth/passwordless-login.service';
import type { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import type { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import type { TokenIssuer } from '../tokens/token-issuer';
import type { User } from '../users/users.repository';
import type { ConnectionEntity } from '../verification/connection.entity';
import type { ConnectionsRepository } from '../verification/connections.repository';
import { VerificationFailure } from '../verification/otp-verifier';
import type { VerificationEntity } from '../verification/verification.entity';
import type { VerificationsRepository } from '../verification/verifications.repository';
import { VerifyRedirectService } from './verify-redirect.service';

const CALLBACK = 'https://app.example/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** The link's POST: the service decides pages and redirects; login, limits and results are its collaborators. */
describe(VerifyRedirectService.name, () => {
  const user: User = { userId: 'email|1', connection: 'email', strategy: 'email', identifier: 'a@b.c', verified: true };
  const connection = { name: 'email', strategy: 'email', maxAttempts: 3 } as ConnectionEntity;
  let client: ClientEntity;
  let live: Partial<VerificationEntity> | null;
  let login: jest.Mock<Promise<User>, [LoginAttempt]>;
  let issued: AuthorizedRequest[];
  let service: VerifyRedirectService;

  beforeEach(() => {
    client = {
      clientId: 'client-1',
      authMethod: 'client_secret_post',
      callbacks: [CALLBACK, 'javascript:alert(1)'],
      connections: ['email'],
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit'],
    } as ClientEntity;
    live = null;
    issued = [];
    login = jest.fn((_attempt: LoginAttempt) => Promise.resolve(user));
    const connections = { findByName: (name: string) => Promise.resolve(name === 'email' ? connection : null) };
    const loginService = new PasswordlessLoginService(
      connections as unknown as ConnectionsRepository,
      undefined as never,
      undefined as never,
    );
    loginService.login = login;
    service = new VerifyRedirectService(
      { findById: (id: string) => Promise.resolve(id === client.clientId ? client : null) } as ClientsRepository,
      loginService,
      {
        checkAudience: (audience?: string) => {
          if (audience !== undefined) throw tokenErrors.serviceNotFound(audience);
        },
      } as TokenIssuer,
      {
        issue: (request: AuthorizedRequest) => {
          issued.push(request);
          return Promise.resolve(request.responseType.includes('code') ? { code: 'the-code' } : { access_token: 'at' });
        },
      } as unknown as AuthorizationResults,
      { token: () => 'nonce-1' } as unknown as RandomSource,
      { attempt: (_subject: unknown, verify: () => Promise<User>) => verify() } as unknown as OtpAttemptLimiter,
      { findLive: () => Promise.resolve(live) } as unknown as VerificationsRepository,
      { recordVerified: () => Promise.resolve() } as unknown as SmsConversionBreaker,
      new Clock(),
    );
  });

  const link = (extra: Record<string, string> = {}) => ({
    client_id: 'client-1',
    redirect_uri: CALLBACK,
    connection: 'email',
    email: 'A@b.c',
    verification_code: '123456',
    state: 'st',
    ...extra,
  });
  const complete = (extra: Record<string, string> = {}) => service.complete(link(extra), '203.0.113.9');
  const redirectOf = async (extra: Record<string, string> = {}) => {
    const response = await complete(extra);
    if (response.kind !== 'redirect') throw new Error(`expected a redirect, got a ${response.status} page`);
    return new URL(response.location);
  };

  /** What the application receives: the query's parameters, or the fragment's for implicit response types. */
  const resultOf = async (extra: Record<string, string> = {}) => {
    const url = await redirectOf(extra);
    return Object.fromEntries([...url.searchParams, ...new URLSearchParams(url.hash.slice(1))]);
  };

  it.each([
    ['an unknown client', { client_id: 'nobody' }, 'unknown application'],
    ['a redirect_uri that is not a callback', { redirect_uri: 'https://evil.example/cb' }, 'not an allowed callback'],
    ['a registered callback that is no web URL', { redirect_uri: 'javascript:alert(1)' }, 'not an allowed callback'],
  ])('should answer an error page, never a redirect, for %s', async (_label, extra, message) => {
    const response = await complete(extra);
    expect(response).toMatchObject({ kind: 'page', status: 400 });
    expect(response.kind === 'page' && response.html).toContain(message);
    expect(login).not.toHaveBeenCalled();
  });

  it('should answer the confirmation page for a GET, consuming nothing', async () => {
    const response = await service.page(link());
    expect(response).toMatchObject({ kind: 'page', status: 200 });
    expect(login).not.toHaveBeenCalled();
  });

  it('should log in and send a code in the query, with state, for response_type code', async () => {
    const url = await redirectOf();
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(Object.fromEntries(url.searchParams)).toEqual({ code: 'the-code', state: 'st' });
    expect(login).toHaveBeenCalledWith(
      expect.objectContaining({ username: 'A@b.c', secret: '123456', acceptLinkToken: true }),
    );
    expect(issued[0]).toMatchObject({ user, redirectUri: CALLBACK, responseType: ['code'] });
  });

  it('should send implicit tokens in the fragment, never the query', async () => {
    const url = await redirectOf({ response_type: 'token', nonce: 'n' });
    expect(url.search).toBe('');
    expect(Object.fromEntries(new URLSearchParams(url.hash.slice(1)))).toEqual({ access_token: 'at', state: 'st' });
  });

  it.each([
    [{ response_type: 'code token' }, 'unsupported_response_type', 'Unsupported response type: code token'],
    [{ response_type: 'id_token' }, 'invalid_request', 'nonce is required when response_type includes id_token'],
    [{ code_challenge: CHALLENGE }, 'invalid_request', 'code_challenge must be a S256 challenge'],
    [{ code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request', 'code_challenge must be a S256'],
    [{ email: '' }, 'invalid_request', 'The link is incomplete.'],
    [{ audience: 'https://unknown.example/' }, 'access_denied', 'Service not found: https://unknown.example/'],
  ])('should redirect %j back to the application with its error and state', async (extra, error, description) => {
    const params = await resultOf(extra);
    expect(params).toMatchObject({ error, state: 'st' });
    expect(params.error_description).toContain(description);
    expect(login).not.toHaveBeenCalled();
  });

  it("should require PKCE for a public client's code, and accept it with S256", async () => {
    client.authMethod = 'none';
    expect(await resultOf()).toMatchObject({
      error: 'invalid_request',
      error_description: 'code_challenge is required for public clients (PKCE S256)',
    });
    const url = await redirectOf({ code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    expect(url.searchParams.get('code')).toBe('the-code');
    expect(issued[0].codeChallenge).toBe(CHALLENGE);
  });

  it('should refuse a link token whose parameters differ from what the start stored, naming them', async () => {
    live = {
      send: 'link',
      authParams: { redirect_uri: CALLBACK, response_type: 'code', state: 'st', scope: 'openid' },
    };
    const params = await resultOf({ verification_code: 'link-token', scope: 'openid email' });
    expect(params).toMatchObject({ error: 'invalid_request', state: 'st' });
    expect(params.error_description).toBe('The link was altered (response_type, scope). Please try to login again.');
    expect(login).not.toHaveBeenCalled();

    const url = await redirectOf({ verification_code: 'link-token', response_type: 'code', scope: 'openid' });
    expect(url.searchParams.get('code')).toBe('the-code');
  });

  it("should answer a wrong or spent code with access_denied in Auth0's words", async () => {
    login.mockRejectedValueOnce(new VerificationFailure('wrong'));
    expect(await resultOf()).toEqual({
      error: 'access_denied',
      error_description: 'Wrong email or verification code.',
      state: 'st',
    });
  });

  it('should not use a grant the client lacks: a code needs authorization_code', async () => {
    client.grantTypes = [PASSWORDLESS_OTP_GRANT, 'implicit'];
    expect(await resultOf()).toMatchObject({ error: 'unauthorized_client' });
  });
});
