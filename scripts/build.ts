/**
 * `npm run build`: the compiled JavaScript a production worker runs, without tsx or webpack at
 * start.
 *
 *   npm run build                      # writes dist/
 *   node dist/cli/main.js worker --config omnisync.yaml
 *
 * 1. `tsc -p tsconfig.build.json`: every source file except tests and benchmarks, as CommonJS,
 *    with source maps, into dist/ (emptied first, so no file of a deleted module lingers).
 * 2. The workflow bundle, prebuilt from workflows/ into dist/workflow-bundle.js, where
 *    `omnisync worker` (cli/commands/worker.ts) finds it next to the compiled code.
 *
 * Nothing else is copied: no runtime code reads a file next to itself (config and mapping files
 * are the operator's, found relative to the config file). Should that change, list the file in
 * RUNTIME_ASSETS.
 *
 * `tsx scripts/build.ts <dir>` builds into <dir> instead (the compiled-worker test does).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeWorkflowBundle } from '../temporal/workflow-bundle';

const REPO = resolve(__dirname, '..');
export const DEFAULT_OUT_DIR = join(REPO, 'dist');
/** The prebuilt workflow bundle's name inside the output folder (cli/commands/worker.ts reads it). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
/** Files the compiled code reads from beside itself, relative to the repo (copied as they are). */
const RUNTIME_ASSETS: readonly string[] = [];

export async function build(outDir: string = DEFAULT_OUT_DIR): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: REPO,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);
  if (!existsSync(join(outDir, 'cli', 'main.js'))) throw new Error(`tsc wrote no ${join(outDir, 'cli', 'main.js')}`);
  await writeWorkflowBundle(join(outDir, WORKFLOW_BUNDLE_FILE));
  for (const asset of RUNTIME_ASSETS) cpSync(join(REPO, asset), join(outDir, asset), { recursive: true });
}

if (require.main === module) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR;
  const started = Date.now();
  build(outDir).then(
    () => process.stdout.write(`built ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s (run: node ${join(outDir, 'cli', 'main.js')} worker)\n`),
    (err: unknown) => {
      process.stderr.write(`build failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
