/**
 * go-install.ts with a stand-in `go` on PATH that prints what a cold-cache build prints: the
 * hundreds of per-module lines are counted, not shown; anything else is passed on; a failure
 * carries Go's last lines.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { goInstall } from '../../temporal/go-install';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding an executable `go` made of `script`, for PATH. */
function fakeGo(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-fake-go-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'go'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(dir, 'go'), 0o755);
  return dir;
}

describe('goInstall', () => {
  it('counts the per-module lines of a cold build and passes on everything else', async () => {
    const bin = fakeGo(
      'i=0; while [ $i -lt 240 ]; do echo "go: downloading example.com/m$i v1.0.$i" >&2; i=$((i+1)); done\n' +
        'echo "go: extracting example.com/big v1.2.3" >&2\necho "# example.com/pkg" >&2\necho "warning: something worth reading" >&2\necho "GOBIN=$GOBIN args=$*" >&2',
    );
    const lines: string[] = [];
    const result = await goInstall({ packages: ['example.com/cmd/tool@v1.0.0'], gobin: '/opt/tools', label: 'the tool', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, log: (line) => lines.push(line) });
    expect(result.modulesDownloaded).toBe(240);
    expect(lines).toEqual(['# example.com/pkg', 'warning: something worth reading', 'GOBIN=/opt/tools args=install example.com/cmd/tool@v1.0.0']);
  });

  it('fails with Go’s last lines and the exit code', async () => {
    const bin = fakeGo('echo "go: downloading example.com/m v1.0.0" >&2\necho "go: example.com/cmd/tool@v9: invalid version" >&2\nexit 1');
    await expect(
      goInstall({ packages: ['example.com/cmd/tool@v9'], gobin: '/opt/tools', label: 'the tool', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, log: () => undefined }),
    ).rejects.toThrow(/Building the tool failed: go install example\.com\/cmd\/tool@v9 exited with code 1\. Last output:\n.*\n.*invalid version/);
  });
});
