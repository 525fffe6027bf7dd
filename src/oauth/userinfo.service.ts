import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { TokenIssuer, userClaims } from '../tokens/token-issuer';
import { UsersRepository } from '../users/users.repository';

/** RFC 6750 §3: a bearer-token failure answers 401 with a WWW-Authenticate challenge. */
const invalidToken = (description: string) =>
  new ApiError(401, 'invalid_token', description, undefined, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });

@Injectable()
export class UserinfoService {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly users: UsersRepository,
  ) {}

  async userinfo(authorization: string | undefined): Promise<Record<string, string | boolean>> {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (!token) throw invalidToken('Missing or malformed bearer token');
    const subject = await this.issuer.verifyAccessToken(token);
    if (!subject) throw invalidToken('The access token is invalid or has expired');
    const user = await this.users.findById(subject);
    if (!user) throw invalidToken('The access token is invalid or has expired');
    return { sub: user.userId, ...userClaims(user) };
  }
}
