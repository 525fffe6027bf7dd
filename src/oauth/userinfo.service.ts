import { Injectable } from '@nestjs/common';
import { tokenErrors } from '../common/auth0-errors';
import { TokenIssuer, userClaims } from '../tokens/token-issuer';
import { UsersRepository } from '../users/users.repository';

@Injectable()
export class UserinfoService {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly users: UsersRepository,
  ) {}

  async userinfo(authorization: string | undefined): Promise<Record<string, string | boolean>> {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (!token) throw tokenErrors.invalidToken('Missing or malformed bearer token');
    const subject = await this.issuer.verifyAccessToken(token);
    if (!subject) throw tokenErrors.invalidToken('The access token is invalid or has expired');
    const user = await this.users.findById(subject);
    if (!user) throw tokenErrors.invalidToken('The access token is invalid or has expired');
    return { sub: user.userId, ...userClaims(user) };
  }
}
