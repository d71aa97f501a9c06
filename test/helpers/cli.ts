// Runs the real binary (node dist/cli.js …) as a child process and collects what it printed and how it exited.
import { spawn } from 'node:child_process';
import { CLI } from './server.js';

export type CliResult = { code: number | null; stdout: string; stderr: string };

/** `env` is the whole environment besides PATH and HOME, so nothing leaks in from the test runner's. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Kept as bytes until the end: a chunk may split a multi-byte character.
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chatlio-relay ${args.join(' ')} did not finish within ${timeoutMs} ms\n${text(stdout)}${text(stderr)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: text(stdout), stderr: text(stderr) });
    });
  });
}

/** An error the CLI reported: exactly one line on stderr, prefixed with the command. */
export function oneLineError(result: CliResult): string {
  const lines = result.stderr.split('\n').filter((line) => line.length > 0);
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${result.stderr}`);
  return lines[0]!;
}
