import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';

/** What every section may know about the process while it builds its part of the tree. */
export interface BootContext {
  production: boolean;
  /** ALLOW_DEVELOPMENT_KEYS=true: production may run on a generated signing key and the default issuer. */
  allowDevelopmentKeys: boolean;
}

/**
 * One feature's configuration: the environment variables it reads (a class whose class-validator decorators are the
 * schema and whose initialisers are the defaults), the part of AppConfig it builds, and its cross-key checks.
 * Problems name keys, never values: configuration holds secrets.
 */
export interface ConfigSection<Vars extends object, Tree extends object> {
  readonly vars: new () => Vars;
  /** Checks across this section's keys (e.g. required together, or in production). */
  problems?(vars: Vars, boot: BootContext): string[];
  build(vars: Vars, boot: BootContext): Tree;
  /** Settings only a worker consuming `queues` needs (the API process does not need SMTP or vendor credentials). */
  workerProblems?(tree: Tree, queues: readonly string[]): string[];
}

/** Identity function that lets TypeScript infer a section's variable and tree types. */
export function configSection<Vars extends object, Tree extends object>(
  section: ConfigSection<Vars, Tree>,
): ConfigSection<Vars, Tree> {
  return section;
}

/** The environment without unset or empty variables (an empty value means "not set", as in docker-compose files). */
export function definedVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/**
 * Validates one section's variables; returns the typed variables and the problems, each saying what is expected and
 * what kind of value was given (`PORT: an integer 1-65535, got a non-number`), never the value itself.
 */
export function readSection<Vars extends object>(
  vars: new () => Vars,
  env: Record<string, string>,
): { values: Vars; problems: string[] } {
  const values = plainToInstance(vars, env, { exposeDefaultValues: true });
  const problems = validateSync(values, { whitelist: false }).map(
    (e) => `${e.property}: ${expectation(vars, e.property)}, got ${described(e.value, numeric(vars, e.property))}`,
  );
  return { values, problems };
}

type Rule = { name?: string; constraints?: unknown[]; message?: unknown };

function rulesOf(vars: new () => object, property: string): Map<string, Rule> {
  return new Map<string, Rule>(
    getMetadataStorage()
      .getTargetValidationMetadatas(vars, '', true, false)
      .filter((m) => m.propertyName === property && m.name)
      .map((m) => [m.name!, m as Rule]),
  );
}

const numeric = (vars: new () => object, property: string) => {
  const rules = rulesOf(vars, property);
  return rules.has('isInt') || rules.has('isNumber');
};

/** What a variable's decorators expect, in words, from class-validator's metadata. */
export function expectation(vars: new () => object, property: string): string {
  const rules = rulesOf(vars, property);
  const arg = (name: string) => rules.get(name)?.constraints?.[0];
  const min = arg('min') as number | undefined;
  const max = arg('max') as number | undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` ${min}-${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  if (rules.has('isInt')) return `an integer${range}`;
  if (rules.has('isNumber')) return `a number${range}`;
  if (rules.has('isBoolean')) return 'true or false';
  if (rules.has('isIn')) return `one of ${(arg('isIn') as string[]).join(', ')}`;
  if (rules.has('isUrl')) return 'an http(s) URL';
  if (rules.has('matches')) {
    const { message } = rules.get('matches')!;
    return typeof message === 'string' ? message : `a value matching ${String(arg('matches'))}`;
  }
  if (rules.has('minLength')) return `a string of at least ${String(arg('minLength'))} characters`;
  return 'a string';
}

/** The kind of value given; numbers as they are, strings never (configuration holds secrets). */
function described(value: unknown, expectsNumber: boolean): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return typeof value;
  if (expectsNumber) return /^-?\d+\.\d+$/.test(value) ? 'a fraction' : 'a non-number';
  return `another value (${value.length} characters)`;
}

/** `A | B | C` to `A & B & C`: the whole tree is every section's part together. */
export type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
