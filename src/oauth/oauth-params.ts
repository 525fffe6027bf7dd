import { tokenErrors } from '../common/auth0-errors';

export type Params = Record<string, unknown>;

/** A body that is not an object (JSON `null`, an array, a number) carries no parameters. */
export function asParams(body: unknown): Params {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Params) : {};
}

/** An optional string parameter; anything else (a repeated form key arrives as an array) is refused, not guessed at. */
export function stringParam(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw tokenErrors.parameterNotString(name);
  return value;
}

/** A required string parameter, worded like Auth0's `missing <name> parameter`. */
export function requiredParam(params: Params, name: string): string {
  const value = stringParam(params, name);
  if (value === undefined || value === '') throw tokenErrors.missingParameter(name);
  return value;
}
