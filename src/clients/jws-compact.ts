import {
  constants,
  createPublicKey,
  verify,
  type JsonWebKey,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import type { PublicJwk } from './client.entity';

/**
 * The JWS algorithms a client assertion may use, verified with node:crypto (RFC 7518 §3.3, §3.4, §3.5): Auth0 accepts
 * RS256, RS384 and PS256; ES256 is added. Never HS* or none (RFC 7523 §3, RFC 8725 §3.1).
 */
const ALGORITHMS = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  // RFC 7518 §3.5: the PSS salt is as long as the hash output.
  PS256: {
    hash: 'sha256',
    keyType: 'rsa',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  },
  // RFC 7518 §3.4: R and S concatenated (IEEE P1363), not DER.
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1', options: { dsaEncoding: 'ieee-p1363' } },
} satisfies Record<string, AlgorithmSpec>;

interface AlgorithmSpec {
  hash: string;
  keyType: 'rsa' | 'ec';
  curve?: string;
  options?: Omit<VerifyKeyObjectInput, 'key'>;
}

export type JwsAlgorithm = keyof typeof ALGORITHMS;
export const ASSERTION_ALGORITHMS = Object.keys(ALGORITHMS) as JwsAlgorithm[];

/** RFC 7518 §3.3: RSA keys of 2048 bits or larger MUST be used (jose enforces the same). */
const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export type JsonObject = Record<string, unknown>;

export interface CompactJws {
  header: JsonObject & { alg: JwsAlgorithm; kid?: string };
  payload: JsonObject;
  signingInput: Buffer;
  signature: Buffer;
}

/** Why a token is not a usable JWS; the message is for logs only. */
export class MalformedJwsError extends Error {}

/**
 * Splits and decodes a JWS in compact serialization (RFC 7515 §7.1) whose payload is a JSON object (a JWT, RFC 7519
 * §7.2). Nothing here is trusted until `signatureMatches` says so; the header is read first only to pick the key.
 */
export function parseCompactJws(token: string): CompactJws {
  const parts = token.split('.');
  // A length of 4n+1 is no base64 at all (Buffer would decode it anyway, jose refuses it).
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part) && part.length % 4 !== 1))
    throw new MalformedJwsError('not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts;
  const header = decodeJsonObject(encodedHeader, 'header');
  // RFC 7515 §4.1.11: a recipient must reject a `crit` it does not understand, and no extension is understood here.
  if (header.crit !== undefined) throw new MalformedJwsError('crit header not supported');
  if (typeof header.alg !== 'string') throw new MalformedJwsError('alg is not a string');
  if (!Object.hasOwn(ALGORITHMS, header.alg)) throw new MalformedJwsError(`alg ${header.alg} not allowed`);
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new MalformedJwsError('kid is not a string');
  return {
    header: header as CompactJws['header'],
    payload: decodeJsonObject(encodedPayload, 'payload'),
    signingInput: Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii'),
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

function decodeJsonObject(encoded: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(encoded, 'base64url')));
  } catch {
    throw new MalformedJwsError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedJwsError(`${what} is not a JSON object`);
  return value as JsonObject;
}

/**
 * The public key of a registered JWK for `alg`, or undefined when the JWK cannot serve it: wrong key type or curve, an
 * RSA modulus under 2048 bits, `key_ops` without `verify` (RFC 7517 §4.3), or a JWK node cannot import.
 */
export function importVerificationKey(jwk: PublicJwk, alg: JwsAlgorithm): KeyObject | undefined {
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  const { d: _private, ...publicPart } = jwk; // only ever use the public half, even if a private JWK was registered
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const spec: AlgorithmSpec = ALGORITHMS[alg];
  if (key.asymmetricKeyType !== spec.keyType) return undefined;
  const details = key.asymmetricKeyDetails ?? {};
  if (spec.keyType === 'rsa' && (details.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
  if (spec.curve !== undefined && details.namedCurve !== spec.curve) return undefined;
  return key;
}

/**
 * Whether the JWS signature verifies with `key`. Synchronous on purpose: an RS256 verify takes ~35 µs of CPU, less
 * than handing it to the libuv pool and back as WebCrypto does (docs/benchmarks.md).
 */
export function signatureMatches(jws: CompactJws, key: KeyObject): boolean {
  const { hash, options }: AlgorithmSpec = ALGORITHMS[jws.header.alg];
  try {
    return verify(hash, jws.signingInput, { key, ...options }, jws.signature);
  } catch {
    return false; // e.g. a signature of the wrong length for the key
  }
}
