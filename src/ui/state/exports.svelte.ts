// The current run out of the browser (PEFT adapter, merged Hugging Face model, Python training project) and a
// PEFT adapter back in, to sample with. Each file downloads on its own, under the name the tools expect.

import { transfer } from 'comlink';
import type { AdapterInfo, ExportedFiles, NamedFile } from '../../protocol';
import { download } from '../download';
import type { Engine } from './engine.svelte';
import { checkFileSize, MAX_FILE_BYTES } from '../files';

export type ExportKind = 'adapter' | 'merged' | 'python';

export const EXPORTS: readonly { kind: ExportKind; label: string; files: string }[] = [
  { kind: 'adapter', label: 'PEFT adapter', files: 'adapter_config.json, adapter_model.safetensors' },
  { kind: 'merged', label: 'Merged model', files: 'config.json, model.safetensors' },
  { kind: 'python', label: 'Python training project', files: 'train.py, data.jsonl, requirements.txt' },
];

const TYPES: Record<string, string> = {
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  py: 'text/x-python',
  txt: 'text/plain',
};

export class Exports {
  busy = $state<ExportKind | 'load-adapter' | null>(null);
  /** The files of the last export, as downloaded. */
  saved = $state.raw<{ name: string; size: number }[]>([]);
  error = $state<string | null>(null);
  /** The files the last adapter loaded came from, by name, as the user chose them. */
  private adapterFiles = $state.raw<string[]>([]);

  constructor(private readonly engine: Engine) {}

  /** The PEFT adapter the worker samples with, if it still has one, with the files it came from. */
  get adapter(): (AdapterInfo & { files: string[] }) | null {
    const info = this.engine.state.adapter;
    return info && { ...info, files: this.adapterFiles };
  }

  async export(kind: ExportKind): Promise<void> {
    const client = this.engine.client;
    if (!client || !this.engine.ready) return;
    const call: Record<ExportKind, () => Promise<ExportedFiles>> = {
      adapter: () => client.api.exportAdapter(),
      merged: () => client.api.exportMerged(),
      python: () => client.api.exportPython(),
    };
    this.busy = kind;
    this.error = null;
    this.saved = [];
    try {
      const { files } = await client.guard(call[kind]());
      for (const f of files)
        download(f.name, f.bytes, TYPES[f.name.split('.').pop() ?? ''] ?? 'application/octet-stream');
      this.saved = files.map((f) => ({ name: f.name, size: f.bytes.length }));
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = null;
    }
  }

  /** Loads adapter_config.json + adapter_model.safetensors; true when the adapter is ready to sample with. */
  async loadAdapter(list: File[]): Promise<boolean> {
    const client = this.engine.client;
    if (!client || !this.engine.ready) return false;
    this.busy = 'load-adapter';
    this.error = null;
    try {
      list.forEach((f) => checkFileSize(f, MAX_FILE_BYTES.adapter, 'adapter file'));
      const files: NamedFile[] = await Promise.all(
        list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
      );
      await this.engine.change(
        (c) =>
          c.api.importAdapter(
            transfer(
              files,
              files.map((f) => f.bytes.buffer as ArrayBuffer),
            ),
          ),
        (state) => state,
      );
      this.adapterFiles = list.map((f) => f.name);
      return true;
    } catch (e) {
      this.error = (e as Error).message;
      return false;
    } finally {
      this.busy = null;
    }
  }
}
