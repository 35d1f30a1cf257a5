// safetensors reader and writer: how imported GPT-2 weights come in and how LoRA adapters go out.
// Format (https://github.com/huggingface/safetensors): 8-byte little-endian header length N, N bytes of
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then raw data; offsets
// are relative to byte 8 + N. Pure TypeScript so it runs anywhere core runs. Typed-array views use the
// platform's byte order, so this assumes a little-endian platform (every browser target is).

export type Dtype = 'F32' | 'F16' | 'BF16';

export interface TensorEntry {
  dtype: Dtype; // dtype as stored in the file
  shape: number[];
  data: Float32Array; // always decoded to float32; owns its buffer (never a view into the file)
}

export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };
const isDtype = (d: unknown): d is Dtype => typeof d === 'string' && Object.hasOwn(DTYPE_BYTES, d);
const isIndex = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

// ---- scalar conversions -------------------------------------------------------------------------

// Scratch cell to read a float32's bit pattern without allocating.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half (bit pattern) → number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** number → IEEE 754 half bit pattern; the value is first rounded to float32, then to half (nearest-even). */
export function f32ToF16(f: number): number {
  f32[0] = f;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf, or a quiet NaN
  const e = exp - 127 + 15; // exponent rebiased for half
  if (e >= 0x1f) return sign | 0x7c00; // too large: overflow to inf
  // Keep `keep` bits of the 24-bit significand m (implicit 1 included) and round the dropped `drop` bits.
  const m = mant | 0x800000;
  let drop = 13; // normal: 23 → 10 mantissa bits
  let bits = (e << 10) | (mant >> 13);
  if (e <= 0) {
    // Subnormal result: units of 2^-24, so shift by 14 - e; below half the smallest subnormal is 0.
    drop = 14 - e;
    if (drop > 24) return sign;
    bits = m >> drop;
  }
  const rest = m & ((1 << drop) - 1);
  const half = 1 << (drop - 1);
  // A carry out of the mantissa correctly bumps the exponent (to the next normal, or to inf).
  if (rest > half || (rest === half && bits & 1)) bits++;
  return sign | bits;
}

/** bfloat16 bit pattern → number: bfloat16 is the top half of a float32. */
export function bf16ToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** number → bfloat16 bit pattern, round-to-nearest-even (NaN stays a quiet NaN, not rounded to inf). */
export function f32ToBf16(f: number): number {
  f32[0] = f;
  const x = u32[0];
  if (Number.isNaN(f)) return (x >>> 16) | 0x40;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

// Half → float32 for all 65536 patterns, built once: decoding a big F16 file becomes a table lookup.
let f16Table: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  return f16Table;
}

// ---- reader -------------------------------------------------------------------------------------

/** Parse a safetensors file. `fileName` only labels error messages. */
export function readSafetensors(bytes: Uint8Array, fileName = 'safetensors file'): SafetensorsFile {
  const fail = (msg: string) => new SafetensorsError(`${fileName}: ${msg}`);
  if (bytes.length < 8) {
    throw fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length; is it a safetensors file?`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLen > bytes.length - 8) {
    throw fail(
      `header says ${headerLen} bytes but file has ${bytes.length - 8} bytes after the 8-byte length: ` +
        'the file is truncated or not safetensors',
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('header is not a JSON object of tensor entries');
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = readMetadata(entry, fail);
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof entry !== 'object' || entry === null) throw fail(`${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    for (const [key, value] of [
      ['dtype', dtype],
      ['shape', shape],
      ['data_offsets', offsets],
    ] as const) {
      if (value === undefined) throw fail(`${where} is missing ${key}`);
    }
    if (!isDtype(dtype)) {
      throw fail(`${where} has dtype ${String(dtype)}; supported dtypes are ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isIndex)) {
      throw fail(`${where} has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      throw fail(`${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] byte offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw fail(`${where} has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > dataLen) {
      throw fail(
        `${where} needs bytes ${begin}..${end} but the data section has ${dataLen} bytes: the file is truncated`,
      );
    }
    const n = numel(shape);
    if (end - begin !== n * DTYPE_BYTES[dtype]) {
      throw fail(
        `${where} has shape [${shape.join(', ')}] = ${n} × ${dtype} (${n * DTYPE_BYTES[dtype]} bytes) ` +
          `but data_offsets span ${end - begin} bytes`,
      );
    }
    // One native copy into a fresh, 0-aligned buffer: the offset need not be aligned, and the result owns
    // its memory, so transferring it to a worker does not drag the whole file along. (Not bytes.slice():
    // on a Node Buffer that returns a view, not a copy.)
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, data: decode(raw.buffer, dtype) });
  }
  return { tensors, metadata };
}

function readMetadata(value: unknown, fail: (msg: string) => SafetensorsError): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('__metadata__ is not an object of string values');
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw fail(`__metadata__ key '${key}' is ${JSON.stringify(v)}; values must be strings`);
  }
  return value as Record<string, string>;
}

function decode(raw: ArrayBuffer, dtype: Dtype): Float32Array {
  if (dtype === 'F32') return new Float32Array(raw);
  const halves = new Uint16Array(raw);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(halves.length);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
    return new Float32Array(bits.buffer);
  }
  const table = halfTable();
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
  return out;
}

// ---- writer -------------------------------------------------------------------------------------

type TensorInput = { shape: number[]; data: Float32Array };

/**
 * Serialise tensors the way the Python `safetensors` library does: sorted by name, contiguous offsets,
 * header padded with spaces to a multiple of 8 bytes (so F32 data starts 8-aligned). `dtype` converts
 * every tensor on write (default F32).
 */
export function writeSafetensors(
  tensors: Map<string, TensorInput> | Record<string, TensorInput>,
  opts: { dtype?: Dtype; metadata?: Record<string, string> } = {},
): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  if (!isDtype(dtype)) throw new SafetensorsError(`cannot write dtype ${String(dtype)}; use F32, F16 or BF16`);
  const size = DTYPE_BYTES[dtype];
  const entries = [...(tensors instanceof Map ? tensors : Object.entries(tensors))];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (opts.metadata) header.__metadata__ = opts.metadata;
  let offset = 0;
  for (const [name, { shape, data }] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(`'__metadata__' is reserved and cannot name a tensor`);
    if (!shape.every(isIndex)) {
      throw new SafetensorsError(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected non-negative integers`);
    }
    const n = numel(shape);
    if (data.length !== n) {
      throw new SafetensorsError(
        `tensor '${name}' has shape [${shape.join(', ')}] (${n} values) but ${data.length} values`,
      );
    }
    header[name] = { dtype, shape, data_offsets: [offset, offset + n * size] };
    offset += n * size;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setUint32(0, headerLen, true); // the high 32 bits of the u64 stay 0
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);

  // Every tensor starts at a multiple of its element size (header is 8-aligned, sizes are whole
  // elements), so typed views straight into `out` are aligned and no temporary buffer is needed.
  let pos = 8 + headerLen;
  for (const [, { data }] of entries) {
    if (dtype === 'F32') new Float32Array(out.buffer, pos, data.length).set(data);
    else {
      const halves = new Uint16Array(out.buffer, pos, data.length);
      const convert = dtype === 'F16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < data.length; i++) halves[i] = convert(data[i]);
    }
    pos += data.length * size;
  }
  return out;
}
