/**
 * Secret and value references in config files: `${env:NAME}` and `${file:path}`.
 *
 * Secrets never sit in a config file in the clear: a manifest marks its secret fields, and the
 * loader refuses any of their text that is not a reference (config/secrets.ts). References may
 * also be used in any other string field (e.g. a host name per environment).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

export function containsReference(value: string): boolean {
  return new RegExp(REFERENCE.source).test(value);
}

/** Replaces every reference with `replacement`, or with what it returns for the reference. */
export function replaceReferences(value: string, replacement: string | ((reference: string) => string)): string {
  return value.replace(new RegExp(REFERENCE.source, 'g'), (reference) => (typeof replacement === 'string' ? replacement : replacement(reference)));
}

export interface ReferenceContext {
  env: NodeJS.ProcessEnv;
  /** Folder that `${file:relative/path}` is resolved against (the config file's folder). */
  baseDir: string;
}

/**
 * Replaces every reference in a string. Problems are reported through `problem` with the
 * config path, and the reference is left unresolved so validation can go on and report more.
 */
export function resolveString(value: string, path: string, context: ReferenceContext, problem: (line: string) => void): string {
  return value.replace(REFERENCE, (whole, source: string, name: string) => {
    if (source === 'env') {
      const found = context.env[name];
      if (found === undefined) {
        problem(`${path}: environment variable ${name} is not set`);
        return whole;
      }
      return found;
    }
    const file = resolve(context.baseDir, name);
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problem(`${path}: cannot read secret file ${name} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return whole;
    }
  });
}

/** Resolves references in every string of a parsed YAML value, recursively. */
export function resolveReferences(value: unknown, path: string, context: ReferenceContext, problem: (line: string) => void): unknown {
  if (typeof value === 'string') return resolveString(value, path, context, problem);
  if (Array.isArray(value)) return value.map((item, i) => resolveReferences(item, `${path}[${i}]`, context, problem));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveReferences(item, joinPath(path, key), context, problem)]),
    );
  }
  return value;
}

/** Reads a dotted path (`database.password`) from a parsed value. */
export function valueAtPath(value: unknown, dotted: string): unknown {
  let current: unknown = value;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}
