// The Python that tests/python runs under: .venv/bin/python (or $LORA_PLAYGROUND_PYTHON) with the versions pinned in
// tests/python/requirements.txt (bash .ci/install-python makes it), or why there is none (the tests then skip, saying so).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The pinned versions, and a python that has them (or why there is none). */
export function findPython(): { python: string; pins: Record<string, string> } | { skip: string } {
  const pins = Object.fromEntries(
    readFileSync(join(ROOT, 'tests/python/requirements.txt'), 'utf8')
      .split('\n')
      .filter((l) => /^[\w-]+==/.test(l))
      .map((l) => l.trim().split('==')),
  );
  const python = process.env.LORA_PLAYGROUND_PYTHON ?? join(ROOT, '.venv/bin/python');
  if (!existsSync(python)) return { skip: `${python} not found (bash .ci/run creates it)` };
  const probe = spawnSync(
    python,
    [
      '-c',
      'import json, torch, transformers, peft, accelerate; print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__, "accelerate": accelerate.__version__}))',
    ],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0)
    return {
      skip: `${python} cannot import torch, transformers, peft and accelerate: ${probe.stderr.trim().split('\n').at(-1)}`,
    };
  const got = JSON.parse(probe.stdout) as Record<string, string>;
  for (const name of ['transformers', 'peft', 'accelerate']) {
    if (got[name] !== pins[name]) return { skip: `${python} has ${name} ${got[name]}, not the pinned ${pins[name]}` };
  }
  if (!got.torch.startsWith('1.13')) return { skip: `${python} has torch ${got.torch}, not Debian's 1.13` };
  return { python, pins };
}
