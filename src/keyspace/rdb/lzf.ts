/**
 * LZF, as Redis compresses RDB strings longer than 20 bytes (liblzf 3.6
 * with Redis's settings: HLOG 16, VERY_FAST, a zeroed hash table), so a
 * payload kvdb writes has Redis's bytes; and decompression of any LZF
 * data.
 *
 * Compressed data is runs: a control byte below 32 starts a literal run
 * of control+1 bytes; otherwise its top 3 bits are a back-reference's
 * length - 2 (7: one more byte adds to it) and its low 5 bits with the
 * next byte the offset - 1.
 *
 * @example
 * ```ts
 * const input = new TextEncoder().encode("abcabcabcabcabcabcabcabc");
 * const packed = lzfCompress(input, input.length - 4)!;
 * lzfDecompress(packed, input.length); // the input again
 * ```
 * @module
 */

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/** The table slot of a 3-byte hash (VERY_FAST's IDX). */
function slot(h: number): number {
  return ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);
}

/**
 * `input` compressed into at most `maxBytes` bytes, or undefined if it
 * does not fit (Redis then stores the string as it is).
 *
 * @example
 * ```ts
 * lzfCompress(new Uint8Array(100), 96)!.length; // a few bytes
 * ```
 */
export function lzfCompress(input: Uint8Array, maxBytes: number): Uint8Array | undefined {
  const inLen = input.length;
  if (inLen === 0 || maxBytes === 0) return undefined;
  // Positions + 1 (0: empty, as a zeroed table of pointers to the input's start).
  const htab = new Int32Array(HSIZE);
  const out = new Uint8Array(maxBytes + 4);
  const outEnd = maxBytes;
  let ip = 0;
  let op = 1; // start run
  let lit = 0;
  const inEnd = inLen;
  let hval = ((input[0] << 8) | input[1]) >>> 0;
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const h = slot(hval);
    const ref = htab[h] - 1; // -1: none (the input's start, which never matches)
    htab[h] = ip + 1;
    const off = ip - ref - 1;
    if (
      ref > 0 && ref < ip && off < MAX_OFF && input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] && input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return undefined;
      out[op - lit - 1] = lit - 1; // stop run
      op -= lit === 0 ? 1 : 0; // undo run if length is zero
      let done = false;
      if (maxlen > 16) {
        // liblzf's unrolled loop: 16 comparisons without the maxlen check.
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            done = true;
            break;
          }
        }
      }
      if (!done) {
        do len++; while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      ip -= 2;
      hval = ((input[ip] << 8) | input[ip + 1]) >>> 0;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[slot(hval)] = ip + 1;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[slot(hval)] = ip + 1;
      ip++;
    } else {
      if (op >= outEnd) return undefined;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > outEnd) return undefined;
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1; // end run
  op -= lit === 0 ? 1 : 0;
  return out.slice(0, op);
}

/**
 * LZF data decompressed into exactly `length` bytes; undefined if the data
 * does not fit.
 *
 * @example
 * ```ts
 * lzfDecompress(new Uint8Array([0, 65]), 1); // Uint8Array [65]
 * ```
 */
export function lzfDecompress(input: Uint8Array, length: number): Uint8Array | undefined {
  const out = new Uint8Array(length);
  let i = 0;
  let o = 0;
  while (i < input.length) {
    const ctrl = input[i++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (o + run > length || i + run > input.length) return undefined;
      out.set(input.subarray(i, i + run), o);
      i += run;
      o += run;
      continue;
    }
    let run = ctrl >> 5;
    if (run === 7) {
      if (i >= input.length) return undefined;
      run += input[i++];
    }
    if (i >= input.length) return undefined;
    const back = ((ctrl & 0x1f) << 8) + input[i++] + 1;
    run += 2;
    if (back > o || o + run > length) return undefined;
    for (let k = 0; k < run; k++, o++) out[o] = out[o - back];
  }
  return o === length ? out : undefined;
}
