import {
  BadRequestException,
  ValidationError,
  ValidationPipe,
  type ArgumentMetadata,
  type Type,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { getMetadataStorage, ValidateBy } from 'class-validator';
import type { ApiError } from './api-error';
import { invalidType, missing, startErrors } from './auth0-errors';

/** A check returns Auth0's `error_description` for a bad value, or null when the value is fine. */
export type FieldCheck = (value: unknown, object: object) => string | null;

/** The checks each DTO class declared with Auth0Field, by property, in declaration order. */
const fieldChecksByClass = new Map<Type<object>, Map<string, FieldCheck>>();

/** Declares a body field validated by `check`; failures answer 400 with Auth0's `error` code for that field. */
export function Auth0Field(error: string, check: FieldCheck): PropertyDecorator {
  const declare = ValidateBy(
    {
      name: 'auth0Field',
      validator: {
        validate: (value, args) => check(value, args?.object ?? {}) === null,
        defaultMessage: (args) => check(args?.value, args?.object ?? {}) ?? 'invalid',
      },
    },
    { context: { error } },
  );
  return (target, property) => {
    declare(target, property);
    const dtoClass = target.constructor as Type<object>;
    fieldChecksByClass.set(
      dtoClass,
      (fieldChecksByClass.get(dtoClass) ?? new Map<string, FieldCheck>()).set(String(property), check),
    );
  };
}

/** A string field that may be absent (or null); present values must be strings passing `format`. */
export const optionalString =
  (field: string, format?: (value: string) => string | null): FieldCheck =>
  (value) => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') return invalidType(field, value, 'string');
    return format ? format(value) : null;
  };

export const requiredString =
  (field: string, format?: (value: string) => string | null): FieldCheck =>
  (value, object) =>
    value === undefined
      ? missing(field)
      : (optionalString(field, format)(value, object) ?? (value === null ? invalidType(field, value, 'string') : null));

/**
 * Turns class-validator errors into one Auth0 error: unknown properties first (`bad.request`), then the first failing
 * field in declaration order of `priority`.
 */
export function auth0ValidationPipe(priority: string[]): ValidationPipe {
  return new Auth0ValidationPipe(auth0ValidationOptions(priority));
}

/** The pipe's ValidationPipe options: what a body the shortcut does not accept is validated with. */
export function auth0ValidationOptions(priority: string[]): ValidationPipeOptions {
  return {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    transform: true,
    validationError: { target: false, value: true },
    exceptionFactory: (errors: ValidationError[]) => toAuth0Error(errors, priority),
  };
}

/**
 * A body that passes is answered without class-validator's executor, whose work and garbage only say "no errors"
 * (docs/decisions/012-validation-shortcut.md). The shortcut runs the very checks the DTO's Auth0Field decorators gave
 * class-validator, on the same instance. Anything it does not accept goes through ValidationPipe: an unknown key; at
 * any depth a key ValidationPipe would strip, an array or a binary value; a failing field; a body that is not a JSON
 * object; a class with other decorators. So every error still comes from class-validator, and the shortcut only ever
 * returns what ValidationPipe would.
 */
class Auth0ValidationPipe extends ValidationPipe {
  private readonly shortcutChecks = new Map<Type<object>, Map<string, FieldCheck> | undefined>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameter decorators are not validated by ValidationPipe (validateCustomDecorators is off).
    const dtoClass = metadata.metatype as Type<object> | undefined;
    const checks = metadata.type !== 'custom' && dtoClass && this.checksFor(dtoClass);
    if (checks && isJsonObjectTree(value) && Object.keys(value).every((key) => checks.has(key))) {
      const dto: Record<string, unknown> = Object.assign(new dtoClass(), value);
      if (passesEveryCheck(checks, dto)) return dto;
    }
    return super.transform(value, metadata);
  }

  /**
   * Only classes whose every class-validator rule is one of their own Auth0Field checks qualify: inherited rules, other
   * decorators (IsEmail & co.) or two checks on one property make the counts differ.
   */
  private checksFor(metatype: Type<object>): Map<string, FieldCheck> | undefined {
    if (!this.shortcutChecks.has(metatype)) {
      const checks = fieldChecksByClass.get(metatype);
      const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
      const onlyAuth0Fields =
        checks !== undefined && rules.length === checks.size && rules.every((rule) => rule.name === 'auth0Field');
      this.shortcutChecks.set(metatype, onlyAuth0Fields ? checks : undefined);
    }
    return this.shortcutChecks.get(metatype);
  }
}

function passesEveryCheck(checks: Map<string, FieldCheck>, dto: Record<string, unknown>): boolean {
  for (const [property, check] of checks) if (check(dto[property], dto) !== null) return false;
  return true;
}

/** Keys ValidationPipe deletes at any depth before it validates (`stripProtoKeys`). */
const STRIPPED_KEYS = ['__proto__', 'prototype', 'constructor'];

/**
 * A JSON object whose values are primitives or such objects, all the way down, without a key ValidationPipe strips.
 * Arrays (whose gaps it closes) and binary values (which it refuses) are left to it, as any body holding one: no Auth0
 * DTO field accepts them anyway.
 */
function isJsonObjectTree(value: unknown): value is Record<string, unknown> {
  return (
    isJsonObject(value) &&
    !STRIPPED_KEYS.some((key) => Object.hasOwn(value, key)) &&
    Object.values(value).every((field) => typeof field !== 'object' || field === null || isJsonObjectTree(field))
  );
}

/** What JSON.parse or the form parser makes of an object body; not a Buffer, Date, array or class instance. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function toAuth0Error(errors: ValidationError[], priority: string[]): ApiError | BadRequestException {
  const notAllowed = errors.filter((e) => e.constraints?.whitelistValidation).map((e) => e.property);
  if (notAllowed.length > 0) return startErrors.propertiesNotAllowed(notAllowed);
  const rank = (e: ValidationError) => (priority.includes(e.property) ? priority.indexOf(e.property) : priority.length);
  const first = [...errors].sort((a, b) => rank(a) - rank(b))[0];
  const [constraint, description] = Object.entries(first?.constraints ?? {})[0] ?? [];
  const code = (first?.contexts?.[constraint ?? ''] as { error?: string } | undefined)?.error ?? 'bad.request';
  return startErrors.badField(code, description ?? 'Invalid request body');
}
