import assert from "node:assert/strict";
import { OutBuffer } from "./out_buffer.ts";

const decoder = new TextDecoder();

Deno.test("starts empty", () => {
  const out = new OutBuffer();
  assert.equal(out.length, 0);
  assert.deepEqual(out.view(), new Uint8Array(0));
});

Deno.test("ascii, byte, bytes and binary append in order", () => {
  const out = new OutBuffer(4);
  out.ascii("OK");
  out.byte(0x0a);
  out.bytes(new Uint8Array([0x00, 0xff]));
  out.binary("\x80\x7fz");
  assert.equal(out.length, 8);
  assert.deepEqual(Array.from(out.view()), [0x4f, 0x4b, 0x0a, 0x00, 0xff, 0x80, 0x7f, 0x7a]);
});

Deno.test("text appends UTF-8", () => {
  const out = new OutBuffer(2);
  out.text("é€");
  assert.deepEqual(Array.from(out.view()), [0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  assert.equal(decoder.decode(out.view()), "é€");
});

Deno.test("grows past its initial size, keeping the contents", () => {
  const out = new OutBuffer(8);
  let expected = "";
  for (let i = 0; i < 5000; i++) {
    const piece = `line ${i}\n`;
    out.ascii(piece);
    expected += piece;
  }
  assert.equal(out.length, expected.length);
  assert.equal(decoder.decode(out.view()), expected);
  const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
  out.reset();
  out.byte(1);
  out.bytes(big);
  assert.equal(out.length, 100_001);
  assert.equal(out.view()[0], 1);
  assert.deepEqual(out.view().subarray(1), big);
});

Deno.test("reserve keeps written bytes", () => {
  const out = new OutBuffer(4);
  out.ascii("abc");
  out.reserve(1000);
  assert.equal(out.length, 3);
  assert.equal(decoder.decode(out.view()), "abc");
});

Deno.test("reset empties and the buffer is reusable", () => {
  const out = new OutBuffer(16);
  out.ascii("hello");
  out.reset();
  assert.equal(out.length, 0);
  assert.equal(out.view().length, 0);
  out.ascii("bye");
  assert.equal(decoder.decode(out.view()), "bye");
});

Deno.test("reset after a huge reply still works", () => {
  const out = new OutBuffer(16);
  out.bytes(new Uint8Array(16 * 64 * 4));
  out.reset();
  assert.equal(out.length, 0);
  out.ascii("small");
  assert.equal(decoder.decode(out.view()), "small");
});

Deno.test("truncate drops the tail; bad lengths throw", () => {
  const out = new OutBuffer(16);
  out.ascii("OK\nPARTIAL");
  out.truncate(3);
  assert.equal(decoder.decode(out.view()), "OK\n");
  out.ascii("NEXT\n");
  assert.equal(decoder.decode(out.view()), "OK\nNEXT\n");
  out.truncate(out.length);
  assert.equal(out.length, 8);
  assert.throws(() => out.truncate(9), RangeError);
  assert.throws(() => out.truncate(-1), RangeError);
  out.truncate(0);
  assert.equal(out.length, 0);
});

Deno.test("view is the written bytes only", () => {
  const out = new OutBuffer(1024);
  out.ascii("xy");
  assert.equal(out.view().length, 2);
});

Deno.test("a zero initial size still grows (runs in a worker: a hang fails, not blocks)", async () => {
  const moduleUrl = new URL("./out_buffer.ts", import.meta.url).href;
  const code = `import { OutBuffer } from ${JSON.stringify(moduleUrl)};
    const out = new OutBuffer(0);
    out.ascii("OK\\n");
    out.bytes(new Uint8Array(100));
    self.postMessage(out.length);`;
  const url = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      new Promise<unknown>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
      }),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("timed out: OutBuffer(0) never returned"), 3000);
      }),
    ]);
    assert.equal(result, 103);
  } finally {
    clearTimeout(timer);
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
