// Runs `npm run -s <script> -- <args>` as a user would type it, in the repository root, with a time budget;
// `until` ends it early (the whole process group) once its output has proved what the test needs.

import { spawn } from 'node:child_process';

export interface NpmResult {
  code: number | null; // null when it was ended by `until` or the budget
  stdout: string;
  stderr: string;
  endedEarly: boolean; // `until` was satisfied and the process was ended
  ms: number; // wall time until exit or until `until` held
}

export function npmRun(args: string[], o: { timeoutMs: number; until?: (stdout: string) => boolean }): Promise<NpmResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd: new URL('../..', import.meta.url).pathname, detached: true, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    let endedEarly = false;
    let ms = 0;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, o.timeoutMs);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!endedEarly && o.until?.(stdout)) {
        endedEarly = true;
        ms = performance.now() - started;
        kill();
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: endedEarly ? null : code, stdout, stderr, endedEarly, ms: ms || performance.now() - started });
    });
  });
}

/** The JSON objects of a --json run's stdout, one per line. */
export const jsonLines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string } & Record<string, unknown>);
