/** BCP 47 shape, at most 35 characters (the longest tag the record stores, RFC 5646 §4.4.1). */
const LANGUAGE_TAG = /^(?=.{1,35}$)[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8}){0,8}$/;

/**
 * Auth0: the template language comes from `x-request-language`; when that is not set it is extracted from
 * `accept-language` (the first, highest-priority tag). Anything that is not a BCP 47-shaped tag is ignored.
 */
export function requestLanguageFrom(headers: Record<string, string | string[] | undefined>): string | null {
  const explicit = first(headers['x-request-language'])?.trim();
  if (explicit) return LANGUAGE_TAG.test(explicit) ? explicit : null;
  const accepted = first(headers['accept-language']);
  if (!accepted) return null;
  const ranked = accepted
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((entry) => LANGUAGE_TAG.test(entry.tag) && entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.tag ?? null;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
