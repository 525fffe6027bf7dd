import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** What every section may know about the process while it builds its part of the tree. */
export interface BootContext {
  production: boolean;
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

/** Validates one section's variables; returns the typed variables and the problems (`KEY (constraint, ...)`). */
export function readSection<Vars extends object>(
  vars: new () => Vars,
  env: Record<string, string>,
): { values: Vars; problems: string[] } {
  const values = plainToInstance(vars, env, { exposeDefaultValues: true });
  const problems = validateSync(values, { whitelist: false }).map(
    (e) => `${e.property} (${Object.keys(e.constraints ?? {}).join(', ')})`,
  );
  return { values, problems };
}

/** `A | B | C` to `A & B & C`: the whole tree is every section's part together. */
export type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
