// What this device says about itself, read the same way in the page and in the training worker.

import { memoryLimit, type MemoryLimit } from '../core/config';

/** navigator.deviceMemory in GB (Chromium only, rounded to a power of two), null where the browser does not say. */
export function deviceMemoryGb(): number | null {
  const gb = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
  return typeof gb === 'number' && gb > 0 ? gb : null;
}

/** What a model may take in this tab: about half the device's memory, within core's cap. */
export const tabMemory = (): MemoryLimit => memoryLimit(deviceMemoryGb() === null ? null : deviceMemoryGb()! * 1e9);
