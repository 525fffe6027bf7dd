import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { isIP } from 'node:net';
import { configSection } from '../config-section';
import { HTTP_URL, commaList, toInt } from '../env-transforms';

class HttpVars {
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  /** Default: http://localhost:<PORT>/ (development only). */
  @IsOptional() @IsUrl(HTTP_URL) ISSUER_BASE_URL?: string;
  @Transform(toInt) @IsInt() @Min(1024) @Max(1048576) BODY_LIMIT_BYTES = 16384;
  /** `false`, a hop count, or a comma-separated list of proxy IPs/CIDRs (checked in `problems`). */
  @IsOptional() @IsString() TRUST_PROXY = 'false';
  // Whole request (headers and body): the bodies are at most BODY_LIMIT_BYTES, so a slow sender is cut off early.
  @Transform(toInt) @IsInt() @Min(100) @Max(300_000) HTTP_REQUEST_TIMEOUT_MS = 10_000;
  // Idle socket; above the keep-alive timeout so that idle keep-alive connections end by that one.
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) HTTP_CONNECTION_TIMEOUT_MS = 75_000;
  // Above the idle timeout of common load balancers (60 s), so that the balancer closes first.
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000;
}

/** Fastify's `trustProxy`: off, the number of proxy hops in front, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

/** proxy-addr's names for address ranges, accepted beside IPs and CIDRs. */
const RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

export function parseTrustProxy(value: string): TrustProxy | undefined {
  const text = value.trim();
  if (text === '' || text === 'false' || text === '0') return false;
  if (/^\d+$/.test(text)) return Number(text) <= 16 ? Number(text) : undefined;
  const entries = commaList(text);
  const valid = entries.every((entry) => {
    if (RANGE_NAMES.includes(entry)) return true;
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  });
  return entries.length > 0 && valid ? entries : undefined;
}

export interface HttpConfig {
  readonly http: {
    port: number;
    host: string;
    bodyLimit: number;
    trustProxy: TrustProxy;
    requestTimeoutMs: number;
    connectionTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  /** Always ends with a slash: it is the `aud` of client assertions and the `iss` of tokens. */
  readonly issuerBaseUrl: string;
}

export const httpSection = configSection({
  vars: HttpVars,
  problems: (vars, { production, allowDevelopmentKeys }) => [
    ...(parseTrustProxy(vars.TRUST_PROXY) === undefined
      ? [
          'TRUST_PROXY (must be false, a hop count such as 1, or a comma-separated list of proxy IPs/CIDRs; ' +
            '`true` is refused: it would trust any X-Forwarded-For a client sends)',
        ]
      : []),
    ...(production && !allowDevelopmentKeys && !vars.ISSUER_BASE_URL
      ? ['ISSUER_BASE_URL: the public URL of this service, required in production (or ALLOW_DEVELOPMENT_KEYS=true)']
      : []),
  ],
  build: (vars): HttpConfig => ({
    http: {
      port: vars.PORT,
      host: vars.HOST,
      bodyLimit: vars.BODY_LIMIT_BYTES,
      trustProxy: parseTrustProxy(vars.TRUST_PROXY)!,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: vars.HTTP_CONNECTION_TIMEOUT_MS,
      keepAliveTimeoutMs: vars.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
    issuerBaseUrl: withSlash(vars.ISSUER_BASE_URL ?? `http://localhost:${vars.PORT}/`),
  }),
});

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);
