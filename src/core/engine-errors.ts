// Errors the math engine (tfjs, the browser's memory, WebGL/WebGPU limits) throws, put into a sentence that
// names the setting to change. Config and asset errors are already such sentences and pass through unchanged.

/** What was happening when the engine failed: building the model, or training it. */
export type EnginePhase = 'model' | 'train';

interface Rule {
  test: RegExp;
  explain(phase: EnginePhase): string;
}

const SMALLER_MODEL = 'a smaller model (model.arch.nLayer, model.arch.nEmbd)';

const RULES: Rule[] = [
  {
    // V8, wasm and Emscripten's abort: a typed array or memory larger than the engine can allocate
    test: /Invalid typed array length|Array buffer allocation failed|Cannot allocate|allocation failed|out of memory|Maximum memory|WebAssembly\.Memory|Cannot enlarge memory|\bOOM\b/i,
    explain: (phase) =>
      phase === 'model'
        ? `The model is too large for this browser's memory: choose ${SMALLER_MODEL}.`
        : `Training ran out of memory: lower train.batchSize or model.arch.blockSize, or choose ${SMALLER_MODEL}.`,
  },
  {
    test: /texture size|MAX_TEXTURE_SIZE|WebGL maximum/i,
    explain: (phase) =>
      `A tensor is larger than this GPU's biggest WebGL texture: ${phase === 'model' ? `choose ${SMALLER_MODEL}` : 'lower train.batchSize or model.arch.blockSize'}, or set model.backend to wasm.`,
  },
  {
    test: /maxBufferSize|maxStorageBufferBindingSize|buffer size .*exceed|exceeds the max/i,
    explain: (phase) =>
      `A tensor is larger than this GPU allows in one WebGPU buffer: ${phase === 'model' ? `choose ${SMALLER_MODEL}` : 'lower train.batchSize or model.arch.blockSize'}, or set model.backend to wasm.`,
  },
];

/** The engine's error as a sentence naming the setting to change (its own words kept at the end); other messages unchanged. */
export function explainEngineError(message: string, phase: EnginePhase): string {
  const rule = RULES.find((r) => r.test.test(message));
  return rule ? `${rule.explain(phase)} (The engine said: ${message})` : message;
}
