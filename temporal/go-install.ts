/**
 * `go install` of pinned tools (the Temporal CLI, the Temporal server and its SQL tool) into a
 * folder of the project's, with its output summarised: on a cold module cache Go prints one
 * `go: downloading <module>` line per module, hundreds of them, which would bury everything a
 * user needs to read. Those lines are counted and reported in the heartbeat and the result;
 * anything else Go prints (warnings, errors) is passed on, and the last lines are kept for the
 * error of a failed build.
 */
import { spawn } from 'node:child_process';
import { forEachLine } from './output-lines';

export interface GoInstallOptions {
  /** `module/path/cmd@version` of each package, installed by one `go install`. */
  packages: readonly string[];
  /** GOBIN: where the binaries go. */
  gobin: string;
  /** What is built, for the progress lines (e.g. "the Temporal CLI"). */
  label: string;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Interval of the "still building" line. Default 30 s. */
  heartbeatMs?: number;
}

export interface GoInstallResult {
  /** Modules Go downloaded (0 on a warm module cache). */
  modulesDownloaded: number;
  seconds: number;
}

/** Lines of progress Go prints per module; counted, never shown one by one. */
const GO_PROGRESS_LINE = /^go: (downloading|extracting|finding) /;
const DEFAULT_HEARTBEAT_MS = 30_000;
const KEPT_LINES = 30;

/** @throws Error with Go's last lines when `go` cannot run or the build fails. */
export async function goInstall(options: GoInstallOptions): Promise<GoInstallResult> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  let modulesDownloaded = 0;
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('go', ['install', ...options.packages], {
      env: { ...(options.env ?? process.env), GOBIN: options.gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string): void => {
      if (line.trim() === '') return;
      tail.push(line);
      if (tail.length > KEPT_LINES) tail.shift();
      if (GO_PROGRESS_LINE.test(line)) {
        if (line.startsWith('go: downloading ')) modulesDownloaded++;
      } else {
        options.log(line);
      }
    };
    forEachLine(child.stdout, onLine);
    forEachLine(child.stderr, onLine);
    const heartbeat = setInterval(
      () => options.log(`Still building ${options.label} (${seconds()} s, ${modulesDownloaded} Go modules downloaded so far)...`),
      options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    );
    child.on('error', (err) => {
      clearInterval(heartbeat);
      reject(new Error(`could not run go to build ${options.label} (is Go installed?): ${err.message}`, { cause: err }));
    });
    child.on('close', (exitCode) => {
      clearInterval(heartbeat);
      resolve(exitCode);
    });
  });
  if (code !== 0) {
    throw new Error(`Building ${options.label} failed: go install ${options.packages.join(' ')} exited with code ${code}. Last output:\n${tail.join('\n')}`);
  }
  return { modulesDownloaded, seconds: seconds() };
}
