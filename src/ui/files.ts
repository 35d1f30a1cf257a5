// Files the learner picks are sized before they are read: a wrong pick (a video, a disk image) is refused by
// name instead of filling the tab's memory.

import { formatBytes } from '../core/units';

/** The largest dataset, run file or adapter read into memory; real ones are far smaller. */
export const MAX_FILE_BYTES = { dataset: 64e6, runs: 256e6, adapter: 512e6 } as const;

/** Throws a plain sentence when a file is larger than `max` bytes; reads nothing. */
export function checkFileSize(file: File, max: number, what: string) {
  if (file.size > max)
    throw new Error(
      `${file.name} is ${formatBytes(file.size)}, more than the ${formatBytes(max)} a ${what} may be here: is it the right file?`,
    );
}
