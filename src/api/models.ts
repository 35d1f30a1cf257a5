// The trainer API's models: the one a config names loaded, a Hugging Face model sized before download, and a
// checkpoint imported from huggingface.co or from files the learner picked or dropped.

import { AssetError } from '../core/assets';
import type { RunConfig } from '../core/config';
import { hfFileUrl, remoteSize, type HfFiles } from '../core/import/hf-gpt2';
import { estimateHfSize, fetchHfModel, importHfModel } from '../core/import/hf';
import { isBuiltInModel } from '../core/rules';
import type { ImportListener, ImportProgress, ModelSource, NamedFile, TrainerApi } from '../protocol';
import { PROGRESS_MS } from './runs';
import { infoOf, type Workspace } from './workspace';

/** The name an imported model goes by: the one chosen, else the checkpoint's own, never a built-in model's. */
export function importedModelName(chosen: string, config: string | Uint8Array | undefined): string {
  let c: Record<string, unknown> = {};
  try {
    if (config !== undefined) c = JSON.parse(typeof config === 'string' ? config : new TextDecoder().decode(config));
  } catch {
    // importHfModel names the JSON error
  }
  const saved = c?._name_or_path;
  const type = typeof c?.model_type === 'string' && /^[\w-]+$/.test(c.model_type) ? c.model_type : 'model';
  const name = chosen || (typeof saved === 'string' && saved ? saved : `local-${type}`);
  return isBuiltInModel(name) ? `${name} (imported)` : name;
}

export const filesIn = (files: NamedFile[]): HfFiles => Object.fromEntries(files.map((f) => [f.name, f.bytes]));

/** config.json of a Hugging Face model, with errors a learner can act on. */
async function fetchHfConfig(hfId: string, get: typeof fetch): Promise<string> {
  let res: Response;
  try {
    res = await get(hfFileUrl(hfId, 'config.json'));
  } catch (e) {
    throw new AssetError(hfId, `could not be reached on huggingface.co (${(e as Error).message})`);
  }
  if (res.status === 404)
    throw new AssetError(hfId, 'was not found on huggingface.co (no config.json); check the model id');
  if (!res.ok)
    throw new AssetError(
      hfId,
      `config.json could not be fetched (HTTP ${res.status}${res.status === 401 ? ': gated or private models need a login this page does not have' : ''})`,
    );
  return res.text();
}

export function modelMethods(ws: Workspace, get: typeof fetch) {
  return {
    async loadModel(config: RunConfig) {
      await ws.ensureModel(ws.need(), config);
      return ws.state();
    },

    async probeHfModel(hfId) {
      const { arch, params, bytesF32 } = estimateHfSize(await fetchHfConfig(hfId, get));
      return {
        id: hfId,
        arch,
        params,
        bytesF32,
        fileBytes: await remoteSize(hfFileUrl(hfId, 'model.safetensors'), { fetch: get }).catch(() => null),
      };
    },

    async importModel(source: ModelSource, onProgress?: ImportListener) {
      const s = ws.need();
      ws.notWhileTraining('importing a model');
      // one message per network chunk would flood the page: at most one every PROGRESS_MS (and the last)
      let last = 0;
      const progress = (p: ImportProgress, force = false) => {
        if (!onProgress || (!force && performance.now() - last < PROGRESS_MS && p.loaded !== p.total)) return;
        last = performance.now();
        void Promise.resolve(onProgress(p)).catch(() => undefined);
      };
      const files =
        'hfId' in source
          ? await fetchHfModel(source.hfId, {
              fetch: get,
              maxBytes: source.maxBytes,
              onProgress: (p) => progress({ phase: 'download', ...p }),
            })
          : filesIn(source.files);
      const name =
        'hfId' in source
          ? importedModelName(source.hfId, undefined)
          : importedModelName(source.name, files['config.json']);
      progress({ phase: 'convert', file: 'model.safetensors', loaded: 0, total: null }, true);
      const loaded = await importHfModel(files, { name });
      await ws.store.put(name, files); // off the tab's memory where IndexedDB is (model-store.ts)
      ws.imported.set(name, infoOf(loaded));
      await s.useModel(loaded);
      ws.dropAdapter();
      return ws.state();
    },
  } satisfies Partial<TrainerApi>;
}
