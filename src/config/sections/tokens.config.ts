import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { commaList, toInt } from '../env-transforms';
import { parseSigningKeys, type SigningKeyInput } from './signing-key-input';

class TokensVars {
  /** JSON array of private RSA keys: `{"kid","pem"}` objects (PKCS#8 or PKCS#1 PEM) or private JWKs. */
  @IsOptional() @IsString() SIGNING_KEYS?: string;
  @IsOptional() @IsString() SIGNING_KEY_ACTIVE_KID?: string;
  @Transform(toInt) @IsInt() @Min(60) @Max(2_592_000) ACCESS_TOKEN_TTL_SECONDS = 86_400;
  @Transform(toInt) @IsInt() @Min(60) @Max(2_592_000) ID_TOKEN_TTL_SECONDS = 36_000;
  /**
   * The APIs a client may request as `audience`, comma-separated; each is its identifier followed by the scopes it
   * defines, space-separated: `https://api.example/ read:messages write:messages, urn:other`.
   */
  @IsOptional() @IsString() TOKEN_AUDIENCES?: string;
}

export interface TokensConfig {
  /** No configured signing keys means a development key is generated and kept in the database (SigningKeyStore). */
  readonly tokens: {
    signingKeys: SigningKeyInput[];
    activeKid?: string;
    accessTokenTtl: number;
    idTokenTtl: number;
    /** API identifier → the scopes it defines (Auth0's APIs: a token for it carries at most these). */
    apis: ReadonlyMap<string, readonly string[]>;
  };
}

export const tokensSection = configSection({
  vars: TokensVars,
  problems: (vars, { production, allowDevelopmentKeys }) => {
    const problems: string[] = [];
    if (production && !allowDevelopmentKeys && !vars.SIGNING_KEYS)
      problems.push(
        'SIGNING_KEYS: a JSON array of private RSA keys, required in production (or ALLOW_DEVELOPMENT_KEYS=true to use a generated key)',
      );
    const keys = parseSigningKeys(vars.SIGNING_KEYS);
    if (keys === undefined) problems.push('SIGNING_KEYS: a JSON array of {"kid","pem"} objects or private JWKs');
    if (vars.SIGNING_KEY_ACTIVE_KID && !keys?.some((k) => k.kid === vars.SIGNING_KEY_ACTIVE_KID))
      problems.push('SIGNING_KEY_ACTIVE_KID: a kid listed in SIGNING_KEYS');
    return problems;
  },
  build: (vars): TokensConfig => ({
    tokens: {
      signingKeys: parseSigningKeys(vars.SIGNING_KEYS) ?? [],
      activeKid: vars.SIGNING_KEY_ACTIVE_KID,
      accessTokenTtl: vars.ACCESS_TOKEN_TTL_SECONDS,
      idTokenTtl: vars.ID_TOKEN_TTL_SECONDS,
      apis: new Map(
        commaList(vars.TOKEN_AUDIENCES).map((entry) => {
          const [identifier, ...scopes] = entry.split(/\s+/);
          return [identifier, [...new Set(scopes)]];
        }),
      ),
    },
  }),
});
