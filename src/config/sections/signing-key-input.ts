/** A configured signing key before import: a PEM with an optional kid, or a private JWK. */
export type SigningKeyInput = { kid?: string; pem: string } | { kid?: string; jwk: Record<string, unknown> };

/**
 * Reads SIGNING_KEYS: a JSON array of `{"kid","pem"}` objects or private JWKs. Shape check only (undefined =
 * malformed); the keys themselves are imported, and so checked, by SigningKeyStore.
 */
export function parseSigningKeys(raw: string | undefined): SigningKeyInput[] | undefined {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const keys: SigningKeyInput[] = [];
  for (const entry of parsed as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { kid, pem, ...rest } = entry as Record<string, unknown>;
    if (kid !== undefined && typeof kid !== 'string') return undefined;
    if (typeof pem === 'string') keys.push({ kid, pem });
    else if (typeof rest.kty === 'string') keys.push({ kid, jwk: { ...rest, ...(kid ? { kid } : {}) } });
    else return undefined;
  }
  return keys;
}
