// safetensors reader/writer: round trips, half-precision bit patterns, unaligned data, error messages.
// Self-contained: files with odd layouts are built by hand here, no Python needed.

import { describe, it, expect } from 'vitest';
import {
  SafetensorsError,
  bf16ToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  readSafetensors,
  writeSafetensors,
} from '../../src/core/model/safetensors';

/** Build a file byte by byte: 8-byte LE length, the header string exactly as given (no padding), data. */
function buildFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const tensor = (shape: number[], values: number[] | Float32Array) => ({ shape, data: new Float32Array(values) });
const headerOf = (file: Uint8Array) => {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return { n, text: new TextDecoder().decode(file.subarray(8, 8 + n)) };
};

function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError');
}

describe('half-precision conversions', () => {
  it('matches known float16 bit patterns', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(0)).toBe(0x0000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f32ToF16(2 ** -14)).toBe(0x0400); // smallest normal
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(1e6)).toBe(0x7c00); // overflow
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
  });

  it('rounds float16 to nearest, ties to even', () => {
    const ulp = 2 ** -10; // spacing of halves in [1, 2)
    expect(f32ToF16(1 + ulp / 2)).toBe(0x3c00); // tie, 0x3c00 is even
    expect(f32ToF16(1 + ulp * 1.5)).toBe(0x3c02); // tie, rounds up to even
    expect(f32ToF16(1 + ulp * 0.75)).toBe(0x3c01);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie past the largest half rounds to inf
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie at half the smallest subnormal: even is 0
    expect(f32ToF16(2 ** -25 * 1.5)).toBe(0x0001);
    expect(f32ToF16(2 ** -24 * 1.5)).toBe(0x0002); // subnormal tie, rounds to even
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up out of subnormals
  });

  it('round-trips every finite float16 pattern exactly', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) !== 0x7c00 && f32ToF16(f16ToF32(h)) !== h) mismatches.push(h); // skip inf/NaN
    }
    expect(mismatches).toEqual([]);
  });

  it('matches known bfloat16 bit patterns and rounds to nearest even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(f32ToBf16(-2)).toBe(0xc000);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(f32ToBf16(NaN))).toBeNaN();
    const ulp = 2 ** -7; // spacing of bfloat16 in [1, 2)
    expect(f32ToBf16(1 + ulp / 2)).toBe(0x3f80); // tie, stays even
    expect(f32ToBf16(1 + ulp * 1.5)).toBe(0x3f82); // tie, up to even
    expect(f32ToBf16(1 + ulp * 0.75)).toBe(0x3f81);
  });
});

describe('writeSafetensors / readSafetensors', () => {
  const tensors = {
    'h.0.attn.c_attn.weight': tensor([2, 3], [1, -2.5, 3.14159, 1e-8, -0, 65504.5]),
    'a.scalar': tensor([], [42]),
    empty: tensor([0, 4], []),
  };

  it('round-trips F32 exactly, from a Map or a Record', () => {
    for (const input of [tensors, new Map(Object.entries(tensors))]) {
      const file = readSafetensors(writeSafetensors(input));
      expect([...file.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
      for (const [name, { shape, data }] of Object.entries(tensors)) {
        const got = file.tensors.get(name)!;
        expect(got.dtype).toBe('F32');
        expect(got.shape).toEqual(shape);
        expect(got.data).toEqual(data);
      }
      expect(file.metadata).toEqual({});
    }
  });

  it('round-trips F16 and BF16 within their precision', () => {
    const data = new Float32Array(200).map((_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    for (const [dtype, relErr] of [
      ['F16', 2 ** -11],
      ['BF16', 2 ** -8],
    ] as const) {
      const got = readSafetensors(writeSafetensors({ w: { shape: [10, 20], data } }, { dtype })).tensors.get('w')!;
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual([10, 20]);
      data.forEach((v, i) => {
        const tol = Math.abs(v) * relErr + (dtype === 'F16' ? 2 ** -25 : 0);
        expect(Math.abs(got.data[i] - v)).toBeLessThanOrEqual(tol);
      });
    }
  });

  it('stores F16/BF16 as the expected bit patterns', () => {
    const data = new Float32Array([1, -2]);
    const f16 = writeSafetensors({ w: { shape: [2], data } }, { dtype: 'F16' });
    const bf16 = writeSafetensors({ w: { shape: [2], data } }, { dtype: 'BF16' });
    expect([...new Uint16Array(f16.slice(-4).buffer)]).toEqual([0x3c00, 0xc000]);
    expect([...new Uint16Array(bf16.slice(-4).buffer)]).toEqual([0x3f80, 0xc000]);
  });

  it('writes the standard layout: space padding to 8 bytes, sorted names, contiguous offsets', () => {
    const file = writeSafetensors({ b: tensor([1], [2]), a: tensor([2], [0, 1]) });
    const { n, text } = headerOf(file);
    expect(n % 8).toBe(0);
    expect(text).toBe(
      (
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'
      ).padEnd(n, ' '),
    );
    expect(file.length).toBe(8 + n + 12);
    expect([...new Float32Array(file.slice(8 + n).buffer)]).toEqual([0, 1, 2]);
    // every padding amount 0..7 is reachable and still a multiple of 8
    for (let len = 1; len <= 8; len++) {
      expect(headerOf(writeSafetensors({ ['x'.repeat(len)]: tensor([0], []) })).n % 8).toBe(0);
    }
  });

  it('round-trips __metadata__', () => {
    const metadata = { format: 'pt', note: 'ünïcode ✓' };
    const file = writeSafetensors({ w: tensor([1], [1]) }, { metadata });
    expect(headerOf(file).text.startsWith('{"__metadata__":')).toBe(true);
    const read = readSafetensors(file);
    expect(read.metadata).toEqual(metadata);
    expect(read.tensors.has('__metadata__')).toBe(false);
  });

  it('rejects a data length that does not match the shape, and a tensor named __metadata__', () => {
    expect(errorOf(() => writeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } })).message).toContain(
      "tensor 'w' has shape [2, 2] (4 values) but 3 values",
    );
    expect(errorOf(() => writeSafetensors({ __metadata__: tensor([0], []) })).message).toContain('reserved');
  });
});

describe('readSafetensors on hand-built files', () => {
  it('reads tensor data at unaligned offsets (odd header length)', () => {
    // An odd-length header puts the data section at an odd byte; the F16 tensor before F32 shifts it by 2 more.
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
      f: { dtype: 'F32', shape: [3], data_offsets: [2, 14] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [14, 18] },
    });
    const text = header.length % 2 ? header : header + ' ';
    const data = new Uint8Array(18);
    data.set(new Uint8Array(new Uint16Array([0x3c00]).buffer), 0);
    data.set(f32Bytes([1.5, -2, 1e-3]), 2);
    data.set(new Uint8Array(new Uint16Array([0x3f80, 0xc000]).buffer), 14);
    const file = readSafetensors(buildFile(text, data));
    expect((8 + text.length) % 2).toBe(1);
    expect([...file.tensors.get('h')!.data]).toEqual([1]);
    expect(file.tensors.get('f')!.data).toEqual(new Float32Array([1.5, -2, 1e-3]));
    expect([...file.tensors.get('b')!.data]).toEqual([1, -2]);
  });

  it('reads from a Uint8Array view with a nonzero byteOffset, returning arrays that own their memory', () => {
    const inner = writeSafetensors({ w: tensor([2, 2], [1, 2, 3, 4]) });
    for (const shift of [1, 3, 4]) {
      const backing = new Uint8Array(inner.length + shift + 5).fill(0xee);
      backing.set(inner, shift);
      const view = backing.subarray(shift, shift + inner.length);
      const w = readSafetensors(view).tensors.get('w')!;
      expect(w.data).toEqual(new Float32Array([1, 2, 3, 4]));
      expect(w.data.buffer).not.toBe(backing.buffer);
      expect(w.data.buffer.byteLength).toBe(16);
    }
  });

  it('reads from a Node Buffer (whose slice() is a view, not a copy)', () => {
    const file = writeSafetensors({ b: tensor([2], [3, 4]), a: tensor([1], [5]) });
    const buffer = Buffer.concat([Buffer.alloc(3), Buffer.from(file)]).subarray(3);
    const read = readSafetensors(buffer);
    expect([...read.tensors.get('a')!.data]).toEqual([5]);
    expect([...read.tensors.get('b')!.data]).toEqual([3, 4]);
  });

  it('gives messages that name the file, the tensor and the problem', () => {
    const entry = (e: object) => buildFile({ 'h.0.attn.c_attn.weight': e }, new Uint8Array(512));
    const claimsLongHeader = buildFile({});
    new DataView(claimsLongHeader.buffer).setUint32(0, 1000, true);
    const cases: [Uint8Array, string[]][] = [
      [new Uint8Array(5), ['model.safetensors', 'file is 5 bytes', 'shorter than the 8-byte header']],
      [claimsLongHeader, ['header says 1000 bytes but file has 2']],
      [buildFile('{"w": {"dtype": "F32",'), ['header is not valid JSON']],
      [buildFile('[1, 2]'), ['not a JSON object']],
      [entry({ shape: [2], data_offsets: [0, 8] }), ["tensor 'h.0.attn.c_attn.weight' is missing dtype"]],
      [entry({ dtype: 'F32', data_offsets: [0, 8] }), ['is missing shape']],
      [entry({ dtype: 'F32', shape: [2] }), ['is missing data_offsets']],
      [
        entry({ dtype: 'I64', shape: [2], data_offsets: [0, 16] }),
        ['dtype I64', 'supported dtypes are F32, F16, BF16'],
      ],
      [entry({ dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] }), ['shape [2,-1]']],
      [entry({ dtype: 'F32', shape: [2], data_offsets: [8] }), ['data_offsets [8]']],
      [
        entry({ dtype: 'F32', shape: [200], data_offsets: [100, 900] }),
        [
          "tensor 'h.0.attn.c_attn.weight' needs bytes 100..900 " +
            'but the data section has 512 bytes: the file is truncated',
        ],
      ],
      [entry({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), ['end before they begin']],
      [
        entry({ dtype: 'F16', shape: [2, 3], data_offsets: [0, 24] }),
        ['shape [2, 3] = 6 × F16 (12 bytes) but data_offsets span 24 bytes'],
      ],
      [buildFile({ __metadata__: { step: 3 } }), ["__metadata__ key 'step' is 3; values must be strings"]],
    ];
    for (const [bytes, parts] of cases) {
      const message = errorOf(() => readSafetensors(bytes, 'model.safetensors')).message;
      expect(message.startsWith('model.safetensors: ')).toBe(true);
      for (const part of parts) expect(message).toContain(part);
    }
  });
});
