/**
 * Runs the omnisync CLI as an operator does: a real process through the package's `omnisync`
 * bin (as `npx omnisync` does), with its exit code and output, without blocking this process
 * (which may host the simulator or the worker the CLI talks to).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function omnisync(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['cli/bin.cjs', ...args],
      { cwd: REPO, env: { ...process.env, LOG_LEVEL: 'error', ...env }, encoding: 'utf8', timeout: timeoutMs },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
