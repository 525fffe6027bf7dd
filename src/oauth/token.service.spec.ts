import { ApiError } from '../common/api-error';
import type { ClientEntity } from '../clients/client.entity';
import type { TokenResponse } from '../tokens/token-issuer';
import type { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import type { OtpGrant } from './grants/otp.grant';
import type { RefreshTokenGrant } from './grants/refresh-token.grant';
import type { TokenGrant } from './grants/token-grant';
import type { Params } from './oauth-params';
import { TokenService } from './token.service';

/** A grant that records its calls and answers a token naming itself. */
class RecordingGrant implements TokenGrant {
  readonly calls: Array<{ client: ClientEntity; params: Params; ip: string }> = [];

  constructor(readonly grantType: string) {}

  exchange(client: ClientEntity, params: Params, ip: string): Promise<TokenResponse> {
    this.calls.push({ client, params, ip });
    return Promise.resolve({ access_token: this.grantType, token_type: 'Bearer', expires_in: 1, scope: '' });
  }
}

describe(TokenService.name, () => {
  const client = { clientId: 'c1' } as ClientEntity;
  const otp = new RecordingGrant('http://auth0.com/oauth/grant-type/passwordless/otp');
  const code = new RecordingGrant('authorization_code');
  const refresh = new RecordingGrant('refresh_token');
  const service = new TokenService(
    otp as unknown as OtpGrant,
    code as unknown as AuthorizationCodeGrant,
    refresh as unknown as RefreshTokenGrant,
  );

  const refusal = async (body: unknown) => {
    // exchange may throw before it returns a promise (parameter checks are synchronous).
    const error = await Promise.resolve()
      .then(() => service.exchange(client, body, '192.0.2.1'))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(ApiError);
    return { status: (error as ApiError).status, body: (error as ApiError).toBody() };
  };

  it.each([
    [otp, { grant_type: otp.grantType, username: 'a@example.com' }],
    [code, { grant_type: 'authorization_code', code: 'x' }],
    [refresh, { grant_type: 'refresh_token', refresh_token: 'y' }],
  ])('should hand %s its own request, with the client and the end user IP', async (grant, body) => {
    const response = await service.exchange(client, body, '192.0.2.1');
    expect(response.access_token).toBe(grant.grantType);
    expect(grant.calls.at(-1)).toEqual({ client, params: body, ip: '192.0.2.1' });
  });

  it.each(['password', 'client_credentials', '__proto__', 'constructor', 'toString', 'REFRESH_TOKEN'])(
    'should refuse the grant type %j as unsupported',
    async (grantType) => {
      expect(await refusal({ grant_type: grantType })).toEqual({
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grantType}` },
      });
    },
  );

  it('should cut a long unsupported grant type in the description', async () => {
    const { body } = await refusal({ grant_type: 'x'.repeat(5000) });
    expect(body.error_description.length).toBeLessThan(600);
  });

  it.each([undefined, null, [], 'grant_type=refresh_token', {}, { grant_type: '' }])(
    'should ask for grant_type when the body %j has none',
    async (body) => {
      expect(await refusal(body)).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'missing grant_type parameter' },
      });
    },
  );

  it('should refuse a repeated grant_type instead of picking one', async () => {
    expect(await refusal({ grant_type: ['refresh_token', 'authorization_code'] })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'grant_type parameter must be a string' },
    });
    expect(refresh.calls.every((c) => c.params.grant_type === 'refresh_token')).toBe(true);
  });
});
