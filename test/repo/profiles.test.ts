// Defect 11 (issue 12): a CPU profile was committed at the repository root; profiles are local measurements.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
const isCheckout = git('rev-parse', '--is-inside-work-tree').stdout.trim() === 'true';
if (!isCheckout) console.log('profiles.test.ts: not a git checkout, so there is nothing tracked to check: skipped');

describe.skipIf(!isCheckout)('defect 11: a committed CPU profile', () => {
  const profiles = ['*.cpuprofile', '*.heapprofile', '*.heapsnapshot'];

  it('no V8 CPU or heap profile is tracked anywhere in the repository', () => {
    const tracked = git('ls-files', '--', ...profiles.map((pattern) => `:(glob)**/${pattern}`));
    expect(tracked.status).toBe(0);
    expect(tracked.stdout.trim()).toBe('');
  });

  it('new profiles, at the root or in a subfolder, are ignored by git', () => {
    const names = ['CPU.20261125.030022.16105.0.001.cpuprofile', 'bench/Heap.20261125.heapprofile', 'app.heapsnapshot'];
    const ignored = git('check-ignore', '--no-index', ...names);
    expect(ignored.stdout.trim().split('\n').sort()).toEqual([...names].sort());
  });
});
