// Engine errors become sentences that name the setting to change; messages that are already sentences pass through.

import { describe, expect, test } from 'vitest';
import { explainEngineError } from '../../src/core/engine-errors';

describe('explainEngineError', () => {
  test("an allocation failure while building the model names the model settings, and keeps the engine's words", () => {
    const m = explainEngineError('Invalid typed array length: 12884901888', 'model');
    expect(m).toBe(
      "The model is too large for this browser's memory: choose a smaller model (model.arch.nLayer, model.arch.nEmbd). (The engine said: Invalid typed array length: 12884901888)",
    );
  });

  test('an allocation failure while training names the batch size and context first', () => {
    for (const raw of [
      'RangeError: Array buffer allocation failed',
      'WebAssembly.Memory.grow(): Maximum memory size exceeded',
      'Aborted(Cannot enlarge memory arrays to size 4294967296 bytes (OOM).)',
    ]) {
      expect(explainEngineError(raw, 'train')).toMatch(
        /^Training ran out of memory: lower train\.batchSize or model\.arch\.blockSize/,
      );
    }
  });

  test('GPU size limits point to a smaller tensor or the wasm backend', () => {
    expect(
      explainEngineError(
        'Requested texture size [70000x4] greater than WebGL maximum on this browser / GPU [16384x16384].',
        'train',
      ),
    ).toMatch(/WebGL texture: lower train\.batchSize .*model\.backend to wasm/);
    expect(
      explainEngineError('Buffer size (5000000000) exceeds the max buffer size limit (4294967296).', 'model'),
    ).toMatch(/WebGPU buffer: choose a smaller model .*model\.backend to wasm/);
  });

  test('a message that is already a sentence is left as it is', () => {
    const s = 'model.arch = 24 layers × 4096 wide is not valid: a model that fits in memory: ...';
    expect(explainEngineError(s, 'model')).toBe(s);
  });
});
