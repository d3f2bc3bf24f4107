/**
 * Finds (or builds) the Temporal server and its SQL schema tool, which `npm run cluster` runs as a
 * real cluster: four services, each its own process, on PostgreSQL (docs/operations.md,
 * "Production on a Temporal cluster").
 *
 * The CLI's `server start-dev` (temporal/cli-binary.ts) is one process on SQLite; a production
 * cluster is the server binary itself, configured by YAML, with its schema installed by
 * `temporal-sql-tool`. Neither binary is published on a package registry, so both are built from
 * their Go module through the Go module proxy, as the CLI's fallback is.
 *
 * Search order: `TEMPORAL_SERVER` / `TEMPORAL_SQL_TOOL` (must point at an executable file), else
 * the project-local `.tools/bin/temporal-server` and `.tools/bin/temporal-sql-tool`. When either
 * is missing, both are built in one `go install` (they share most packages, so the second costs
 * seconds) into a scratch GOBIN under `.tools` and moved to those names: `go install` names a
 * binary after its package folder (`server`, `sql`), too generic for a folder of tools.
 *
 * Version: v1.32.1, the newest tag the Go toolchain of this project's machines builds (v1.32.2
 * asks for Go 1.26.10). The schema directories the SQL tool applies ship in the same module, in
 * the module cache: {@link temporalSchemaDir}.
 *
 * Run as a script (`tsx cluster/server-binary.ts [--no-build]`) it prints both paths.
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_TOOLS_BIN } from '../temporal/cli-binary';
import { goInstall } from '../temporal/go-install';

/** The server's Go module version: binaries and schema directories come from it. */
export const TEMPORAL_SERVER_VERSION = 'v1.32.1';
const SERVER_PACKAGE = `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`;
const SQL_TOOL_PACKAGE = `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`;

export interface TemporalServerBinaries {
  /** `temporal-server`: `--config-file <yaml> --allow-no-auth start --service <name>`. */
  server: string;
  /** `temporal-sql-tool`: creates databases and applies the versioned schema. */
  sqlTool: string;
}

export interface EnsureTemporalServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the binaries are looked for and built into. Default: `.tools/bin`. */
  toolsDir?: string;
  /** Build when missing. False only searches. Default: true. */
  build?: boolean;
  /** Progress lines of a build. Default: stderr. */
  logger?: (line: string) => void;
}

/**
 * The server and the SQL tool, built with Go when missing.
 *
 * @throws Error naming the variable when `TEMPORAL_SERVER` / `TEMPORAL_SQL_TOOL` point at nothing
 *   usable, or with Go's last output when the build fails.
 */
export async function ensureTemporalServer(options: EnsureTemporalServerOptions = {}): Promise<TemporalServerBinaries> {
  const found = await findTemporalServer(options);
  if (found) return found;
  if (options.build === false) {
    throw new Error(`Temporal server binaries not found in ${options.toolsDir ?? PROJECT_TOOLS_BIN}; build them with \`npx tsx cluster/server-binary.ts\` (needs Go).`);
  }
  await buildTemporalServer(options);
  const built = await findTemporalServer(options);
  if (!built) throw new Error('go install succeeded but temporal-server / temporal-sql-tool are not where they were moved to');
  return built;
}

/** Both binaries when present and runnable, else `undefined` (the signal to build). */
export async function findTemporalServer(options: Pick<EnsureTemporalServerOptions, 'env' | 'toolsDir'> = {}): Promise<TemporalServerBinaries | undefined> {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? PROJECT_TOOLS_BIN;
  const pick = async (variable: string, fileName: string): Promise<string | undefined> => {
    const explicit = env[variable];
    if (explicit !== undefined && explicit !== '') {
      if (!(await isExecutable(explicit))) throw new Error(`${variable} is set to '${explicit}' but that is not an executable file.`);
      return explicit;
    }
    const local = path.join(toolsDir, fileName);
    return (await isExecutable(local)) ? local : undefined;
  };
  const server = await pick('TEMPORAL_SERVER', 'temporal-server');
  const sqlTool = await pick('TEMPORAL_SQL_TOOL', 'temporal-sql-tool');
  if (server === undefined || sqlTool === undefined) return undefined;
  const version = await run(server, ['--version'], env);
  if (!version.includes(TEMPORAL_SERVER_VERSION.slice(1))) {
    throw new Error(`${server} --version printed '${version.trim()}', not ${TEMPORAL_SERVER_VERSION}: remove it to rebuild, or set TEMPORAL_SERVER.`);
  }
  return { server, sqlTool };
}

/**
 * A versioned schema directory of the server module (`temporal` or `visibility`, PostgreSQL 12+
 * flavour), from the Go module cache the build filled.
 */
export async function temporalSchemaDir(kind: 'temporal' | 'visibility', env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const modCache = (await run('go', ['env', 'GOMODCACHE'], env)).trim();
  const dir = path.join(modCache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema/postgresql/v12', kind, 'versioned');
  try {
    if ((await stat(dir)).isDirectory()) return dir;
  } catch {
    // reported below
  }
  throw new Error(`Temporal's schema directory ${dir} is missing: run \`go mod download go.temporal.io/server@${TEMPORAL_SERVER_VERSION}\`.`);
}

/**
 * One `go install` of both packages into a scratch GOBIN (output summarised, go-install.ts), then
 * the binaries moved to their names: `go install` names each after its folder (server, sql).
 */
async function buildTemporalServer(options: EnsureTemporalServerOptions): Promise<void> {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? PROJECT_TOOLS_BIN;
  const log = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  const scratchBin = path.join(toolsDir, '..', 'go-build-bin');
  await mkdir(toolsDir, { recursive: true });
  await rm(scratchBin, { recursive: true, force: true });
  log(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool: go install ${SERVER_PACKAGE} ${SQL_TOOL_PACKAGE} (minutes on a cold Go build cache)`);
  const built = await goInstall({ packages: [SERVER_PACKAGE, SQL_TOOL_PACKAGE], gobin: scratchBin, label: 'the Temporal server', env, log });
  await rename(path.join(scratchBin, 'server'), path.join(toolsDir, 'temporal-server'));
  await rename(path.join(scratchBin, 'sql'), path.join(toolsDir, 'temporal-sql-tool'));
  await rm(scratchBin, { recursive: true, force: true });
  log(`Built temporal-server and temporal-sql-tool in ${built.seconds} s (${built.modulesDownloaded} Go modules downloaded) into ${toolsDir}`);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`\`${file} ${args.join(' ')}\` failed: ${String(stderr).trim() || err.message}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const binaries = await ensureTemporalServer({ build: !argv.includes('--no-build') });
  process.stdout.write(`${binaries.server}\n${binaries.sqlTool}\n`);
}

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
