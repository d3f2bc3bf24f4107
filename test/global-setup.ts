/**
 * Vitest global setup of the `integration` project (all tests outside `test/unit/`): finds (or
 * builds, minutes once) the Temporal CLI before any test file starts, so no test or hook timeout
 * has to cover a Go build.
 *
 * The path reaches the test processes twice over: as `TEMPORAL_CLI` in the environment (the
 * forks pool copies the main process's environment) and as `inject('temporalCli')`.
 * PostgreSQL is not started here: tests that need it use `test/support/postgres.ts`.
 */
import type { TestProject } from 'vitest/node';
import { temporalDevServerExecutable } from '../temporal/cli-binary';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Temporal CLI, or '' when the tests will let @temporalio/testing download it. */
    temporalCli: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const executable = await temporalDevServerExecutable({
    build: true,
    logger: (line) => process.stderr.write(`[temporal-cli] ${line}\n`),
  });
  const cli = executable.type === 'existing-path' ? executable.path : '';
  if (cli !== '') process.env.TEMPORAL_CLI = cli;
  project.provide('temporalCli', cli);
}
