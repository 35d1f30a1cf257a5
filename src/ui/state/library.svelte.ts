// Every run the page has trained, kept in IndexedDB: list, overlay on the chart, delete, export, import.

import { describeChanges, diffConfig } from '../config-diff';
import { isRun, type StoredRun } from '../runs';
import { Storage } from '../storage';

export class Library {
  runs = $state.raw<StoredRun[]>([]); // oldest first
  /** Earlier runs drawn faded behind the current one. */
  overlayIds = $state.raw<string[]>([]);
  storageError = $state<string | null>(null);
  storage: Storage | null = null;

  async open(): Promise<void> {
    try {
      this.storage = await Storage.open();
      const runs = await this.storage.runs();
      // a run still marked as training was cut off by a reload or a closed tab: say so, keep its curves
      for (const r of runs) {
        if (!r.end && !r.failure) {
          r.failure = `Interrupted after step ${r.steps.at(-1)?.step ?? 0}: the page was closed or reloaded while it trained.`;
          await this.storage.putRun(r);
        }
      }
      this.runs = runs;
      this.overlayIds = runs.slice(-3, -1).map((r) => r.id);
    } catch (e) {
      this.storageError = `Runs cannot be saved in this browser (IndexedDB: ${(e as Error).message}); they last until the tab closes.`;
    }
  }

  get(id: string): StoredRun | undefined {
    return this.runs.find((r) => r.id === id);
  }

  /** Inserts or replaces a run (by id) and writes it through to IndexedDB. */
  async save(r: StoredRun): Promise<void> {
    const i = this.runs.findIndex((x) => x.id === r.id);
    this.runs = i >= 0 ? this.runs.map((x, j) => (j === i ? r : x)) : [...this.runs, r];
    await this.storage?.putRun(r).catch((e: Error) => (this.storageError = `Saving the run failed: ${e.message}`));
  }

  async remove(id: string): Promise<void> {
    this.runs = this.runs.filter((r) => r.id !== id);
    this.overlayIds = this.overlayIds.filter((x) => x !== id);
    await this.storage?.deleteRun(id);
  }

  toggleOverlay(id: string) {
    this.overlayIds = this.overlayIds.includes(id) ? this.overlayIds.filter((x) => x !== id) : [...this.overlayIds, id];
  }

  /** "#3" — a run's number in the order they were made. */
  numberOf(id: string): number {
    return this.runs.findIndex((r) => r.id === id) + 1;
  }

  /** What changed from the run before it ("lr 3e-3→1e-2"), or the dataset for the first one. */
  labelOf(r: StoredRun): string {
    const i = this.runs.findIndex((x) => x.id === r.id);
    const prev = i > 0 ? this.runs[i - 1] : null;
    return prev ? describeChanges(diffConfig(prev.config, r.config)) : `${r.dataLabel}, first run`;
  }

  exportJson(ids: string[]): string {
    return JSON.stringify(
      { format: 'lora-playground-runs', version: 1, runs: this.runs.filter((r) => ids.includes(r.id)) },
      null,
      1,
    );
  }

  /** Adds the runs of an exported file; returns how many were new. Throws with a plain message on a bad file. */
  async importJson(text: string, fileName: string): Promise<number> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(`${fileName} is not JSON (${(e as Error).message}).`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { runs?: unknown }).runs;
    if (!Array.isArray(list)) throw new Error(`${fileName} holds no runs: expected a file exported from this page.`);
    const good = list.filter(isRun);
    if (good.length === 0) throw new Error(`${fileName} holds no readable runs.`);
    let added = 0;
    for (const r of good) {
      if (this.get(r.id)) continue;
      await this.save({
        ...r,
        samples: r.samples ?? [],
        failure: r.failure ?? null,
        end: r.end ?? null,
        lesson: r.lesson ?? null,
      });
      added++;
    }
    this.runs = [...this.runs].sort((a, b) => a.createdAt - b.createdAt);
    return added;
  }
}
