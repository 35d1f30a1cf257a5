// Where the worker keeps an imported model's files, so that a model dropped for another can be imported again
// without asking the learner for its folder: IndexedDB in the page (off the tab's memory: the model's weights are
// already in memory as float32 tensors, and an F16 file beside them would take half as much again), memory where
// there is no IndexedDB (Node, the tests) or where the browser refuses to store them (quota).

import { openDB, type IDBPDatabase } from 'idb';
import type { HfFiles } from '../core/import/hf-gpt2';

export interface FileStore {
  readonly where: 'IndexedDB' | 'memory';
  put(name: string, files: HfFiles): Promise<void>;
  get(name: string): Promise<HfFiles | undefined>;
  clear(): Promise<void>;
}

export function memoryStore(): FileStore {
  const held = new Map<string, HfFiles>();
  return {
    where: 'memory',
    put: async (name, files) => void held.set(name, files),
    get: async (name) => held.get(name),
    clear: async () => held.clear(),
  };
}

const DB = 'lora-playground-imports';
const STORE = 'files';

/** IndexedDB, with the files of any model it could not store kept in memory instead. */
export function idbStore(): FileStore {
  let db: Promise<IDBPDatabase> | null = null;
  const open = () => (db ??= openDB(DB, 1, { upgrade: (d) => void d.createObjectStore(STORE) }));
  const spill = memoryStore();
  return {
    where: 'IndexedDB',
    async put(name, files) {
      try {
        await (await open()).put(STORE, files, name);
      } catch {
        await spill.put(name, files); // over quota, or private browsing without IndexedDB
      }
    },
    async get(name) {
      return (await spill.get(name)) ?? ((await (await open()).get(STORE, name)) as HfFiles | undefined);
    },
    async clear() {
      await spill.clear();
      try {
        await (await open()).clear(STORE);
      } catch {
        // nothing stored
      }
    },
  };
}

/** IndexedDB where the environment has it, else memory. */
export const fileStore = (): FileStore => (typeof indexedDB !== 'undefined' ? idbStore() : memoryStore());
