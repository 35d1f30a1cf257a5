// Sizes written for people: decimal units, as disks and browsers' memory figures use them.

/** 19_327_352_832 → "19.3 GB". */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${+n.toFixed(1)} ${units[i]}`;
}
