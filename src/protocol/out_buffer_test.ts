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

/** Collects what `writeTo` sends: each write call's bytes, copied. */
class RecordingWriter {
  readonly calls: Uint8Array[] = [];
  /** Bytes taken per call at most (a socket takes only part of a large write). */
  constructor(readonly takeAtMost = Infinity) {}
  write(p: Uint8Array): Promise<number> {
    const n = Math.min(p.length, this.takeAtMost);
    this.calls.push(p.slice(0, n));
    return Promise.resolve(n);
  }
  all(): Uint8Array {
    const total = this.calls.reduce((sum, c) => sum + c.length, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of this.calls) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }
}

Deno.test("reference keeps the bytes where they are: not copied, counted in length", () => {
  const out = new OutBuffer(16);
  const value = new Uint8Array(1000).fill(0x61);
  out.ascii("$1000\r\n");
  out.reference(value);
  out.ascii("\r\n");
  assert.equal(out.length, 7 + 1000 + 2);
  assert.equal(out.referencedBytes, 1000);
  // A later change to the source shows in the output: it was referenced.
  value[0] = 0x62;
  const text = decoder.decode(out.view());
  assert.equal(text, "$1000\r\nb" + "a".repeat(999) + "\r\n");
  out.reset();
  assert.equal(out.length, 0);
  assert.equal(out.referencedBytes, 0);
  assert.equal(out.view().length, 0);
});

Deno.test("segments keep their order: own bytes, bytes, strings and produced bytes", () => {
  const out = new OutBuffer(16);
  out.ascii("A");
  out.reference(new Uint8Array([0x42, 0x42]));
  out.reference("CC");
  out.ascii("D");
  out.produce({
    byteLength: 3,
    *chunks() {
      yield new Uint8Array([0x45]);
      yield new Uint8Array([0x45, 0x45]);
    },
  });
  out.reference(new Uint8Array(0));
  out.ascii("F");
  assert.equal(out.length, 10);
  assert.equal(decoder.decode(out.view()), "ABBCCDEEEF");
});

Deno.test("writeTo sends everything in order in slices of at most maxWriteBytes", async () => {
  const out = new OutBuffer(16);
  const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
  const bigString = "xyz".repeat(3000);
  out.ascii("head");
  out.reference(big);
  out.ascii("mid");
  out.reference(bigString);
  out.bytes(new Uint8Array(2500).fill(7)); // own bytes past the bound too
  const writer = new RecordingWriter();
  await out.writeTo(writer, 1024);
  assert.ok(writer.calls.every((c) => c.length <= 1024 && c.length > 0));
  assert.deepEqual(writer.all(), out.view());
  assert.equal(writer.all().length, 4 + 10_000 + 3 + 9000 + 2500);
  // A writer that takes only part of each call gets the rest in later calls.
  const partial = new RecordingWriter(100);
  await out.writeTo(partial, 1024);
  assert.deepEqual(partial.all(), out.view());
});

Deno.test("truncate cuts inside and before references", () => {
  const out = new OutBuffer(16);
  out.ascii("ab");
  out.reference("cdef");
  out.ascii("gh");
  out.reference(new Uint8Array([0x69, 0x6a]));
  out.produce({
    byteLength: 2,
    *chunks() {
      yield new Uint8Array([0x6b, 0x6c]);
    },
  });
  assert.equal(decoder.decode(out.view()), "abcdefghijkl");
  out.truncate(11);
  assert.equal(decoder.decode(out.view()), "abcdefghijk");
  out.truncate(9);
  assert.equal(decoder.decode(out.view()), "abcdefghi");
  out.truncate(7);
  assert.equal(decoder.decode(out.view()), "abcdefg");
  out.truncate(4);
  assert.equal(decoder.decode(out.view()), "abcd");
  assert.equal(out.length, 4);
  out.ascii("Z");
  assert.equal(decoder.decode(out.view()), "abcdZ");
  out.truncate(1);
  assert.equal(decoder.decode(out.view()), "a");
  assert.equal(out.referencedBytes, 0);
});

Deno.test("numberLine writes prefix, digits and CRLF, growing the buffer when needed", () => {
  const out = new OutBuffer(64);
  out.ascii("x".repeat(60));
  out.numberLine(0x3a, -9007199254740991);
  out.numberLine(0x24, 0);
  out.numberLine(0x2a, 2147483648);
  assert.equal(
    decoder.decode(out.view()),
    "x".repeat(60) + ":-9007199254740991\r\n$0\r\n*2147483648\r\n",
  );
  assert.throws(() => out.numberLine(0x3a, 2 ** 53));
});
