// Importing a model (GPT-2, or the Llama layout: Llama, Qwen2, Mistral, SmolLM): files the user drops or picks, a
// whole folder included (config.json + model.safetensors or its shards [+ tokenizer files]),
// or a Hugging Face id whose size is shown, against this device's memory, before its weights are downloaded.

import { transfer, proxy } from 'comlink';
import type { RunConfig } from '../../core/config';
import { modelFit } from '../model-fit';
import { deviceMemoryGb } from '../device';
import { bytes } from '../format';
import type { HfModelSize, ImportProgress, ModelInfo, ModelSource, NamedFile } from '../../protocol';
import type { Engine } from './engine.svelte';

/** The files of a model folder the importer reads; pytorch_model.bin only so the error can say why it is refused. */
const MODEL_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.json',
  'model.safetensors.index.json',
];
/** model.safetensors, or a shard of it (model-00001-of-00002.safetensors). */
const isWeights = (name: string) => name.endsWith('.safetensors');
const UNREADABLE = ['pytorch_model.bin'];

/** The files of a drop: dropped files as they are, a dropped folder's files (its own level) in their place. */
export async function droppedFiles(dt: DataTransfer | null): Promise<File[]> {
  if (!dt) return [];
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  if (!entries.some((e) => e?.isDirectory)) return [...dt.files];
  const out: File[] = [];
  for (const entry of entries) {
    if (entry?.isFile) out.push(await new Promise<File>((ok, no) => (entry as FileSystemFileEntry).file(ok, no)));
    else if (entry?.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries hands over a batch at a time, an empty one at the end
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, no) => reader.readEntries(ok, no));
        if (batch.length === 0) break;
        for (const f of batch)
          if (f.isFile) out.push(await new Promise<File>((ok, no) => (f as FileSystemFileEntry).file(ok, no)));
      }
    }
  }
  return out;
}

export class ModelImport {
  hfId = $state('');
  size = $state.raw<HfModelSize | null>(null);
  progress = $state.raw<ImportProgress | null>(null);
  busy = $state<'probe' | 'import' | null>(null);
  error = $state<string | null>(null);
  /** The files of the last local import, by name, as shown to the user. */
  chosen = $state.raw<string[]>([]);
  readonly deviceMemoryGb = deviceMemoryGb();
  /** The fit line for the probed model, against the run as set up now (read anew as either changes). */
  get fit() {
    return this.size ? modelFit(this.size, this.deviceMemoryGb, this.run?.()) : null;
  }

  constructor(
    private readonly engine: Engine,
    private readonly onImported: (m: ModelInfo) => void,
    /** The run as set up now and the backend running, for the fit line's step estimate. */
    private readonly run?: () => { config: RunConfig; backend: string | null },
  ) {}

  /** Dropped or picked files (a whole folder is fine: only the model's files are read). */
  async fromFiles(list: File[]): Promise<void> {
    const wanted = list.filter((f) => MODEL_FILES.includes(f.name) || isWeights(f.name) || UNREADABLE.includes(f.name));
    this.chosen = list.map((f) => f.name);
    if (wanted.length === 0) {
      this.error = `None of ${list.map((f) => f.name).join(', ')} is a model file: choose config.json and model.safetensors (and tokenizer.json or vocab.json if you have them).`;
      return;
    }
    // the weights are sized before they are read, with the same limit a Hugging Face download has
    const weights = wanted.filter((f) => isWeights(f.name));
    const total = weights.reduce((n, f) => n + f.size, 0);
    const limit = modelFit({ bytesF32: 0, fileBytes: 0 }, this.deviceMemoryGb).maxBytes;
    if (total > limit) {
      const what = weights.length === 1 ? weights[0].name : `The ${weights.length} weight shards`;
      this.error = `${what} ${weights.length === 1 ? 'is' : 'are'} ${bytes(total)}, more than the ${bytes(limit)} this device can hold for a model: choose a smaller model.`;
      return;
    }
    const files: NamedFile[] = await Promise.all(
      wanted.map(async (f) => ({
        name: f.name,
        bytes: UNREADABLE.includes(f.name) ? new Uint8Array(0) : new Uint8Array(await f.arrayBuffer()),
      })),
    );
    const folder = list[0].webkitRelativePath.split('/')[0] ?? '';
    await this.load(
      transfer(
        { files, name: folder },
        files.map((f) => f.bytes.buffer as ArrayBuffer),
      ),
    );
  }

  /** Fetches config.json and the weights' size, so the fit line shows before the download. */
  async probe(): Promise<void> {
    const client = this.engine.client;
    const id = this.hfId.trim();
    if (!client || !id) return;
    this.busy = 'probe';
    this.error = null;
    this.size = null;
    try {
      this.size = await client.guard(client.api.probeHfModel(id));
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = null;
    }
  }

  async fromHub(): Promise<void> {
    const id = this.hfId.trim();
    if (!id) return;
    const maxBytes = this.fit?.maxBytes ?? modelFit({ bytesF32: 0, fileBytes: 0 }, this.deviceMemoryGb).maxBytes;
    await this.load({ hfId: id, maxBytes });
  }

  private async load(source: ModelSource): Promise<void> {
    const client = this.engine.client;
    if (!client || !this.engine.ready) return;
    this.busy = 'import';
    this.error = null;
    this.progress = null;
    try {
      const { model } = await this.engine.change(
        (c) =>
          c.api.importModel(
            source,
            proxy((p: ImportProgress) => (this.progress = p)),
          ),
        (state) => state,
      );
      if (model) this.onImported(model);
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = null;
      this.progress = null;
    }
  }
}
