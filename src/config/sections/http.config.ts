import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsString, IsUrl, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { HTTP_URL, toBool, toInt } from '../env-transforms';

class HttpVars {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  @IsUrl(HTTP_URL) ISSUER_BASE_URL = 'http://localhost:3000/';
  @Transform(toInt) @IsInt() @Min(1024) @Max(1048576) BODY_LIMIT_BYTES = 16384;
  @Transform(toBool) @IsBoolean() TRUST_PROXY = false;
}

export interface HttpConfig {
  readonly http: { port: number; host: string; bodyLimit: number; trustProxy: boolean };
  /** Always ends with a slash: it is the `aud` of client assertions and the `iss` of tokens. */
  readonly issuerBaseUrl: string;
}

export const httpSection = configSection({
  vars: HttpVars,
  build: (vars): HttpConfig => ({
    http: { port: vars.PORT, host: vars.HOST, bodyLimit: vars.BODY_LIMIT_BYTES, trustProxy: vars.TRUST_PROXY },
    issuerBaseUrl: vars.ISSUER_BASE_URL.endsWith('/') ? vars.ISSUER_BASE_URL : `${vars.ISSUER_BASE_URL}/`,
  }),
});
