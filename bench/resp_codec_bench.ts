/**
 * Cost of the RESP2 codec alone, per command, on a redis-benchmark-like
 * load: 300k pipelined commands alternating `SET key:NNNNNN <64-byte value>`
 * and `GET key:NNNNNN`.
 *
 * - decode, one buffer: every request decoded from one buffer holding all.
 * - decode, 64 KiB reads: the buffer presented as a connection reads it, so
 *   a request cut by a read boundary is resumed.
 * - encode: `+OK` for each SET and the 64-byte value as a bulk for each GET,
 *   the output buffer emptied every 256 KiB as a connection flushes it.
 *
 * Each figure is the median of 5 timed runs after one warm-up run.
 *
 * @example
 * ```ts
 * // deno run bench/resp_codec_bench.ts
 * ```
 * @module
 */

import { OutBuffer } from "../src/protocol/out_buffer.ts";
import { RespRequestDecoder } from "../src/protocol/resp_decoder.ts";
import { RespReplyWriter } from "../src/protocol/resp_writer.ts";

const COMMANDS = 300_000;
const VALUE_BYTES = 64;
const READ_BYTES = 64 * 1024;
const FLUSH_BYTES = 256 * 1024;
const MAX_MESSAGE_BYTES = 4096;
const RUNS = 5;

const value = "v".repeat(VALUE_BYTES - 8) + "01234567";

function request(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const arg of args) s += `$${arg.length}\r\n${arg}\r\n`;
  return s;
}

function buildRequests(): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const key = `key:${String(i % 100_000).padStart(6, "0")}`;
    parts.push(request(i % 2 === 0 ? ["SET", key, value] : ["GET", key]));
  }
  return new TextEncoder().encode(parts.join(""));
}

/** Decodes `buffer` in reads of `readBytes`; returns the requests decoded. */
function decodeAll(buffer: Uint8Array, readBytes: number): number {
  const decoder = new RespRequestDecoder(MAX_MESSAGE_BYTES);
  let decoded = 0;
  let start = 0;
  for (
    let end = Math.min(readBytes, buffer.length);;
    end = Math.min(end + readBytes, buffer.length)
  ) {
    while (start < end) {
      const used = decoder.decode(buffer, start, end);
      if (used === 0) break;
      start += used;
      if (decoder.args !== undefined) decoded++;
    }
    if (end === buffer.length) break;
  }
  if (decoded !== COMMANDS) throw new Error(`decoded ${decoded} of ${COMMANDS}`);
  return decoded;
}

/** Writes the replies to COMMANDS commands; returns the bytes written. */
function encodeAll(): number {
  const out = new OutBuffer();
  const writer = new RespReplyWriter(out);
  let written = 0;
  for (let i = 0; i < COMMANDS; i++) {
    if (i % 2 === 0) {
      writer.begin(undefined, 3);
      writer.status("OK");
    } else {
      writer.begin(undefined, 2);
      writer.bulk(value);
    }
    if (out.length >= FLUSH_BYTES) {
      written += out.length;
      out.reset();
    }
  }
  return written + out.length;
}

function nsPerCommand(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    run();
    times.push(((performance.now() - t0) * 1e6) / COMMANDS);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)];
}

const requests = buildRequests();
const results = {
  "decode, one buffer": nsPerCommand(() => decodeAll(requests, requests.length)),
  "decode, 64 KiB reads": nsPerCommand(() => decodeAll(requests, READ_BYTES)),
  "encode": nsPerCommand(encodeAll),
};
console.log(
  `${COMMANDS} commands (SET/GET alternating, ${VALUE_BYTES}-byte values), ` +
    `${(requests.length / 1024 / 1024).toFixed(1)} MiB; median of ${RUNS} runs`,
);
for (const [name, ns] of Object.entries(results)) {
  console.log(`${name.padEnd(22)} ${ns.toFixed(1).padStart(7)} ns/command`);
}
