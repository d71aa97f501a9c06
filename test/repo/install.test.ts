// Defect 10 (issue 12): `.npmrc`'s build-from-source made npm warn on every command; the addon must still be compiled.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const addonPackage = join(repo, 'node_modules', 'better-sqlite3');
const scratch = mkdtempSync(join(repo, 'node_modules', '.chatlio-relay-install-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// What an install sees without any npm_config_* from the npm that runs this test, and no rc file of the user's own.
const cleanEnv = { PATH: process.env.PATH, HOME: scratch };

describe('defect 10: better-sqlite3 built from source without an unknown npm setting', () => {
  it('npm warns about no unknown project config in this repository', () => {
    const npm = spawnSync('npm', ['config', 'list'], { cwd: repo, env: cleanEnv, encoding: 'utf8' });
    expect(npm.status, npm.stderr).toBe(0);
    expect(npm.stderr).not.toMatch(/unknown (project|env|user) config/i);
  });

  it('prebuild-install, run from the package folder with no npm settings in its environment, refuses to download a prebuilt binary', () => {
    // Started in better-sqlite3's folder so it finds the same config files as during `npm ci`; --path sends anything
    // it would unpack into a scratch folder, and a dead proxy makes a download fail fast instead of touching the network.
    copyFileSync(join(addonPackage, 'package.json'), join(scratch, 'package.json'));
    const bin = createRequire(join(addonPackage, 'package.json')).resolve('prebuild-install/bin.js');
    const run = spawnSync(process.execPath, [bin, '--verbose', '--path', scratch], {
      cwd: addonPackage,
      env: { ...cleanEnv, npm_config_proxy: 'http://127.0.0.1:9', npm_config_https_proxy: 'http://127.0.0.1:9' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const output = `${run.stdout}${run.stderr}`;
    expect(output).toContain('--build-from-source specified, not attempting download');
    expect(existsSync(join(scratch, 'build'))).toBe(false);
  });

  it('the installed addon was compiled here by node-gyp, not unpacked from a prebuilt archive', () => {
    // A prebuilt archive holds build/Release/better_sqlite3.node alone; node-gyp leaves its configuration and Makefile.
    expect(existsSync(join(addonPackage, 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    expect(existsSync(join(addonPackage, 'build', 'config.gypi'))).toBe(true);
    expect(existsSync(join(addonPackage, 'build', 'Makefile'))).toBe(true);
  });
});
