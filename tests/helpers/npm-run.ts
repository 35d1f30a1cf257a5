// Runs a command (`npm run -s train -- ...`, or a README line through bash) as a user would type it, in the repository root, with a time budget;
// `until` ends it early (the whole process group) once its output has proved what the test needs; it may be
// async (e.g. fetch from a server the command started) and runs again on later output when it says false.

import { spawn } from 'node:child_process';

export interface NpmResult {
  code: number | null; // null when it was ended by `until` or the budget
  stdout: string;
  stderr: string;
  endedEarly: boolean; // `until` was satisfied and the process was ended
  ms: number; // wall time until exit or until `until` held
}

export interface RunOptions {
  timeoutMs: number;
  until?: (stdout: string) => boolean | Promise<boolean>;
}

export const npmRun = (args: string[], o: RunOptions) => runCommand('npm', args, o);
/** A command line exactly as written, through bash. */
export const shellRun = (line: string, o: RunOptions) => runCommand('bash', ['-c', line], o);

/** The environment a user's shell has: without vitest's own variables (VITEST* silences vite; NODE_ENV=test). */
function userEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('VITEST') && !['NODE_ENV', 'TEST', 'FORCE_COLOR'].includes(k),
    ),
  );
  return { ...env, NO_COLOR: '1' }; // picocolors reads FORCE_COLOR=0 as "force"; NO_COLOR is honoured
}

export function runCommand(command: string, args: string[], o: RunOptions): Promise<NpmResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: new URL('../..', import.meta.url).pathname,
      detached: true,
      env: userEnv(),
    });
    let stdout = '';
    let stderr = '';
    let endedEarly = false;
    let ms = 0;
    let checking = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, o.timeoutMs);
    const check = async () => {
      if (endedEarly || checking || !o.until) return;
      checking = true;
      const seen = stdout;
      const done = await Promise.resolve(o.until(seen)).catch(() => true); // a failing check ends the run too
      checking = false;
      if (done) {
        endedEarly = true;
        ms = performance.now() - started;
        kill();
      } else if (stdout !== seen) void check();
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      void check();
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: endedEarly ? null : code, stdout, stderr, endedEarly, ms: ms || performance.now() - started });
    });
  });
}

/** The JSON objects of a --json run's stdout, one per line. */
export const jsonLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
