// The sample bench: one prompt, the base model and the fine-tuned one answering side by side.

import type { Generation } from '../../core/eval/generate';
import type { GenerateRequest } from '../../protocol';
import type { TrainerClient } from '../trainer-client';

/** "\n | ###" → ["\n", "###"]: sequences split on " | ", with \n and \t written as escapes. */
export function parseStops(s: string): string[] {
  return s
    .split('|')
    .map((x) => x.trim().replace(/\\n/g, '\n').replace(/\\t/g, '\t'))
    .filter((x) => x.length > 0);
}

export class Bench {
  prompt = $state('Mia has a blue kite. What colour is the kite?\nA: ');
  temperature = $state(0.7);
  topK = $state(20);
  maxTokens = $state(40);
  stops = $state('\\n');
  seed = $state(1);
  base = $state.raw<Generation | null>(null);
  tuned = $state.raw<Generation | null>(null);
  tunedNote = $state<string | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);

  request(): GenerateRequest {
    return {
      prompt: this.prompt,
      maxTokens: this.maxTokens,
      temperature: this.temperature,
      topK: this.topK,
      stop: parseStops(this.stops),
      seed: this.seed,
    };
  }

  /** Samples the base model, and the fine-tuned one when this tab has trained a run. */
  async run(client: TrainerClient, hasTuned: boolean): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      const req = this.request();
      this.base = await client.guard(client.api.generate(req, false));
      this.tuned = hasTuned ? await client.guard(client.api.generate(req, true)) : null;
      this.tunedNote = hasTuned ? null : 'Train a run in this tab to compare: fine-tuned weights live in memory only.';
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
    }
  }
}
