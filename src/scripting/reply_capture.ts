/**
 * A {@link ReplyWriter} that keeps the reply as a value instead of sending
 * it: what `redis.call` gives back to Lua. Bulk strings stay binary
 * strings and integers numbers (or bigints), so the common replies cost no
 * wrapper object; a reply that is one bulk given as bytes (GET's) stays
 * bytes ({@link CapturedBytes}); everything else is a tagged
 * {@link Captured} node.
 *
 * @example
 * ```ts
 * const capture = new ReplyCapture();
 * capture.reset();
 * capture.bulk("v");
 * capture.value; // "v"
 * ```
 * @module
 */

import type { CommandError, ReplyWriter, TextRendering } from "../protocol/reply_writer.ts";
import { assert } from "../_assert.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { copyBytes } from "../bytes/copy_bytes.ts";
import { ScratchBytes } from "../bytes/scratch_bytes.ts";
import { REFERENCE_MIN_BYTES } from "../protocol/out_buffer.ts";

/** A reply kept as a value. `null`: the nil reply (bulk or array). */
export type Captured =
  | string
  | number
  | bigint
  | null
  | CapturedNode;

/** A reply other than a bulk string, an integer or nil. */
export type CapturedNode =
  | { kind: "status"; text: string }
  | { kind: "error"; error: CommandError }
  | { kind: "array" | "set" | "push"; items: Captured[] }
  | { kind: "map"; items: Captured[] }
  | { kind: "double"; value: number }
  | { kind: "big"; text: string }
  | { kind: "verbatim"; format: string; text: string }
  | { kind: "boolean"; value: boolean }
  | CapturedBytes;

/**
 * A whole reply that is one bulk string given as bytes (GET's), kept as
 * bytes: no JS string made only to be copied into Lua. One node per
 * capture, refilled by its next reply: read it before that.
 */
export interface CapturedBytes {
  kind: "bytes";
  data: Uint8Array;
  length: number;
}

interface Open {
  items: Captured[];
  /** Elements still expected (a map counts keys and values). */
  left: number;
}

/** Collects exactly one reply (see the module doc). */
export class ReplyCapture implements ReplyWriter {
  /** The reply, once complete. */
  value: Captured = null;
  /** Whether a whole reply has been written since {@link reset}. */
  done = false;
  readonly #open: Open[] = [];
  readonly #bytes: CapturedBytes = { kind: "bytes", data: new Uint8Array(0), length: 0 };
  readonly #scratch = new ScratchBytes();

  /** Makes ready for the next reply. */
  reset(): void {
    this.value = null;
    this.done = false;
    // Setting an array's length is a runtime call even when it is already 0
    // (reset was ~65 ms self of a 2.7 s EVALSHA server profile, twice per redis.call).
    if (this.#open.length !== 0) this.#open.length = 0;
  }

  #add(value: Captured): void {
    const open = this.#open;
    if (open.length === 0) {
      assert(!this.done, "one reply per command");
      this.value = value;
      this.done = true;
      return;
    }
    const top = open[open.length - 1];
    top.items.push(value);
    if (--top.left === 0) {
      open.pop();
      this.#closed();
    }
  }

  /** A container just got its last element: it counts as one element of its parent. */
  #closed(): void {
    const open = this.#open;
    if (open.length === 0) {
      this.done = true;
      return;
    }
    const top = open[open.length - 1];
    if (--top.left === 0) {
      open.pop();
      this.#closed();
    }
  }

  #container(kind: "array" | "set" | "push" | "map", count: number): void {
    const items: Captured[] = [];
    const node: CapturedNode = { kind, items };
    const elements = kind === "map" ? count * 2 : count;
    if (elements === 0) return this.#add(node);
    const open = this.#open;
    if (open.length === 0) {
      assert(!this.done, "one reply per command");
      this.value = node;
    } else {
      open[open.length - 1].items.push(node);
    }
    open.push({ items, left: elements });
  }

  begin(_rendering: TextRendering | undefined, _argc: number): void {}
  status(text: string): void {
    this.#add({ kind: "status", text });
  }
  error(error: CommandError): void {
    this.#add({ kind: "error", error });
  }
  integer(value: number | bigint): void {
    this.#add(value);
  }
  bulk(value: string): void {
    this.#add(value);
  }
  bulkBytes(value: Uint8Array): void {
    this.#add(bytesToBinary(value));
  }
  bulkRange(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    // Bytes below the size a reply writer sends by reference (the scratch stays that small).
    if (this.#open.length !== 0 || length >= REFERENCE_MIN_BYTES) {
      return this.#add(bytesToBinary(bytes, start, end));
    }
    const node = this.#bytes;
    node.data = this.#scratch.atLeast(length);
    copyBytes(bytes, start, end, node.data, 0);
    node.length = length;
    this.#add(node);
  }
  nil(): void {
    this.#add(null);
  }
  nilArray(): void {
    this.#add(null);
  }
  array(count: number): void {
    this.#container("array", count);
  }
  map(count: number): void {
    this.#container("map", count);
  }
  set(count: number): void {
    this.#container("set", count);
  }
  push(count: number): void {
    this.#container("push", count);
  }
  double(value: number): void {
    this.#add({ kind: "double", value });
  }
  bigNumber(value: bigint | string): void {
    this.#add({ kind: "big", text: String(value) });
  }
  verbatim(format: string, text: string): void {
    this.#add({ kind: "verbatim", format, text });
  }
  boolean(value: boolean): void {
    this.#add({ kind: "boolean", value });
  }
}
