/**
 * Layers point one way (docs/architecture.md): core/ depends on nothing of ours; state/ only on
 * core/; connectors/ never on activities, workflows, the CLI or the Temporal wiring. Read from
 * the source text, so a new import that breaks the direction fails here, not in a review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '../..');

function sourceFiles(folder: string): string[] {
  return readdirSync(join(REPO, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

/** The repo folders (first path segment) a file imports from, through relative imports. */
function importedFolders(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8');
  const folders = new Set<string>();
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const target = relative(REPO, resolve(join(REPO, file, '..'), match[1]!));
    folders.add(target.split('/')[0]!);
  }
  return [...folders];
}

const rules: Array<{ folder: string; allowed: string[] }> = [
  { folder: 'core', allowed: ['core'] },
  { folder: 'state', allowed: ['state', 'core'] },
  { folder: 'connectors', allowed: ['connectors', 'core', 'config', 'state', 'observability'] },
  // The engine: entity engines and the staging and push every entity shares; no Temporal wiring.
  { folder: 'engine', allowed: ['engine', 'core', 'config', 'connectors', 'state', 'observability'] },
  // Activities adapt the engine to Temporal; they never reach into workflows or the CLI.
  { folder: 'activities', allowed: ['activities', 'engine', 'core', 'config', 'connectors', 'state', 'observability'] },
  // The webhook receiver: HTTP in front of the state store; nothing of ours depends on it but the CLI.
  { folder: 'webhooks', allowed: ['webhooks', 'core', 'config', 'connectors', 'state', 'observability'] },
  // Workflows: deterministic code, pure core modules, and activities as types only (below).
  { folder: 'workflows', allowed: ['workflows', 'core', 'activities'] },
];

describe('layers', () => {
  for (const { folder, allowed } of rules) {
    it(`${folder}/ imports only from ${allowed.join(', ')}`, () => {
      const outward = sourceFiles(folder).flatMap((file) => importedFolders(file).filter((target) => !allowed.includes(target)).map((target) => `${file} → ${target}/`));
      expect(outward).toEqual([]);
    });
  }

  it('workflows/ import activities only as types (the workflow bundle must not pull activity code in)', () => {
    const valueImports = sourceFiles('workflows').flatMap((file) =>
      [...readFileSync(join(REPO, file), 'utf8').matchAll(/^\s*import\s+(?!type\s)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)]
        .filter((match) => relative(REPO, resolve(join(REPO, file, '..'), match[1]!)).startsWith('activities'))
        .map((match) => `${file} → ${match[1]}`),
    );
    expect(valueImports).toEqual([]);
  });
});
