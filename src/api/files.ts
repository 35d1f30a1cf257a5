// The trainer API's files: a finished run's PEFT adapter, merged model and Python project out, and a PEFT adapter
// in (sampled on the pretrained weights until a run starts or the model changes).

import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  exportMergedHfGpt2,
  exportPeftAdapter,
  importPeftAdapter,
} from '../core/import/peft';
import { exportPythonProject } from '../core/import/python-export';
import type { TrainerApi } from '../protocol';
import { filesIn } from './models';
import type { Workspace } from './workspace';

export function fileMethods(ws: Workspace) {
  return {
    async exportAdapter() {
      const s = ws.need();
      const run = ws.finishedRun(s, 'an adapter');
      if (!run.lora)
        throw new Error(
          'The current run fine-tuned every weight (train.method "full"): it has no LoRA adapter to export; export the merged model instead.',
        );
      return ws.filesOut(await exportPeftAdapter(run.lora, { baseModel: run.config.model.name }));
    },

    async exportMerged() {
      const s = ws.need();
      ws.notWhileTraining('exporting the merged model');
      const eosId = s.tokenizer.eosId;
      const adapter = ws.adapter?.lora;
      // an imported adapter goes onto the pretrained weights, as it is sampled; else the run's adapter or full fine-tune
      const files = adapter
        ? await s.withBaseModel(() => exportMergedHfGpt2(s.model, adapter, { eosId }))
        : await exportMergedHfGpt2(s.model, s.current?.lora ?? null, { eosId });
      return ws.filesOut(files);
    },

    async exportPython() {
      const run = ws.finishedRun(ws.need(), 'the Python project');
      return ws.filesOut(exportPythonProject(run.config, run.data.records, { baseModel: run.config.model.name }));
    },

    async importAdapter(files) {
      const s = ws.need();
      ws.notWhileTraining('loading an adapter');
      // a re-downloaded file may be named "adapter_config (1).json": go by extension
      const named = files.map((f) => ({
        ...f,
        name: f.name.endsWith('.json') ? ADAPTER_CONFIG : f.name.endsWith('.safetensors') ? ADAPTER_WEIGHTS : f.name,
      }));
      const { lora, baseModel } = importPeftAdapter(filesIn(named), s.model.arch);
      ws.dropAdapter();
      ws.adapter = {
        lora,
        info: {
          baseModel,
          rank: lora.cfg.rank,
          targets: [...lora.cfg.targets],
          layers: new Set(lora.adapters.map((a) => a.layer)).size,
        },
      };
      return ws.state();
    },
  } satisfies Partial<TrainerApi>;
}
