// IndexedDB (through idb): finished and in-progress runs, and the current setup, so a reload or a closed tab
// loses nothing. One database, two stores.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunConfig } from '../core/config';
import type { StoredRun } from './runs';

/** The setup panel's state worth keeping across reloads. */
export interface SavedSetup {
  config: RunConfig;
  customText: string | null;
  customFileName: string | null;
}

interface Schema extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
  setup: { key: string; value: SavedSetup };
}

const DB_NAME = 'lora-playground';

export class Storage {
  private constructor(private readonly db: IDBPDatabase<Schema>) {}

  static async open(): Promise<Storage> {
    const db = await openDB<Schema>(DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore('runs', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
        db.createObjectStore('setup');
      },
    });
    return new Storage(db);
  }

  async runs(): Promise<StoredRun[]> {
    return this.db.getAllFromIndex('runs', 'createdAt');
  }
  async putRun(r: StoredRun): Promise<void> {
    await this.db.put('runs', r);
  }
  async deleteRun(id: string): Promise<void> {
    await this.db.delete('runs', id);
  }
  async setup(): Promise<SavedSetup | undefined> {
    return this.db.get('setup', 'current');
  }
  async putSetup(s: SavedSetup): Promise<void> {
    await this.db.put('setup', s, 'current');
  }
}
