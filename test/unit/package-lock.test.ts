/**
 * Guards the committed lockfile against npm/cli#4828: a lock written where other platforms'
 * optional binaries (swc, rollup, esbuild, the Temporal core bridge...) could not be fetched
 * lacks their entries, and `npm ci` on a clean machine then refuses it ("Missing: ... from lock
 * file"). CI runs plain `npm ci`, so the lock must list every platform's optional packages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};

/** Whether `dep`, required from the lock entry at `from`, resolves the way Node looks it up. */
function resolvesInLock(from: string, dep: string): boolean {
  let base = from;
  for (;;) {
    if (`${base === '' ? '' : `${base}/`}node_modules/${dep}` in lock.packages) return true;
    if (base === '') return false;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

describe('package-lock.json', () => {
  it('records every optional (platform) package, so npm ci accepts it on any platform', () => {
    const missing = Object.entries(lock.packages).flatMap(([from, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((dep) => !resolvesInLock(from, dep))
        .map((dep) => `${from || '(root)'} -> ${dep}`),
    );
    expect(lock.lockfileVersion).toBe(3);
    // When this fails: run `npm install` where the registry serves every platform's packages.
    expect(missing).toEqual([]);
  });
});
