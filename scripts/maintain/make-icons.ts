// Draws the app icons (public/icons/icon-192.png, icon-512.png, icon-maskable-512.png) that make the page
// installable: a frozen weight matrix W beside the two thin LoRA factors A and B. Deterministic; no dependencies.
// Run: npx tsx scripts/maintain/make-icons.ts

import * as fs from 'node:fs';
import { deflateSync } from 'node:zlib';

type Rgb = [number, number, number];
const BG: Rgb = [0x1d, 0x4e, 0xd8]; // the page's --accent
const W: Rgb = [0xe8, 0xef, 0xff]; // --accent-soft
const AB: Rgb = [0xf5, 0x9e, 0x0b];

/** Rectangles in a 0..1 square, drawn in order: W, A (tall, thin), B (wide, thin). `inset` shrinks the art into the maskable safe zone. */
function draw(size: number, inset: number): Uint8Array {
  const px = new Uint8Array(size * size * 3);
  const rects: [number, number, number, number, Rgb][] = [
    [0.16, 0.3, 0.56, 0.56, W],
    [0.76, 0.3, 0.08, 0.56, AB],
    [0.16, 0.14, 0.56, 0.08, AB],
  ];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x / size - inset) / (1 - 2 * inset);
      const v = (y / size - inset) / (1 - 2 * inset);
      const hit = rects.find(([rx, ry, rw, rh]) => u >= rx && u < rx + rw && v >= ry && v < ry + rh);
      px.set(hit ? hit[4] : BG, (y * size + x) * 3);
    }
  }
  return px;
}

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGB PNG (colour type 2), one filter byte (0) per row. */
function png(size: number, rgb: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) raw.set(rgb.subarray(y * size * 3, (y + 1) * size * 3), y * (size * 3 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array()),
  ]);
}

fs.mkdirSync('public/icons', { recursive: true });
for (const [name, size, inset] of [
  ['icon-192.png', 192, 0],
  ['icon-512.png', 512, 0],
  ['icon-maskable-512.png', 512, 0.1],
] as const) {
  fs.writeFileSync(`public/icons/${name}`, png(size, draw(size, inset)));
  console.log(`public/icons/${name}`);
}
