/** class-transformer `@Transform`s for env strings: anything not in the expected form is left for validation. */
type TransformInput = { value: unknown };

export const toInt = ({ value }: TransformInput) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;

export const toNumber = ({ value }: TransformInput) =>
  typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;

export const toBool = ({ value }: TransformInput) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** A comma-separated list, trimmed, without empty entries. */
export const commaList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export const HTTP_URL = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };
