import assert from "node:assert/strict";
import { hashBytes, ProtoTable, tableBytes, type TableLayout } from "./_table.ts";
import { Replies } from "./_resp.ts";

const layout: TableLayout = { stripes: 4, slotsPerStripe: 256, arenaBytesPerStripe: 16 * 1024 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function get(table: ProtoTable, key: string): string {
  const bytes = encoder.encode(key);
  const out = new Replies();
  table.get(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length), out);
  return decoder.decode(out.bytes.subarray(0, out.length));
}

function set(table: ProtoTable, key: string, value: string): boolean {
  const bytes = encoder.encode(key + value);
  const end = encoder.encode(key).length;
  return table.set(bytes, 0, end, hashBytes(bytes, 0, end), bytes, end, bytes.length);
}

for (
  const [name, buffer, locked] of [
    ["ArrayBuffer", new ArrayBuffer(tableBytes(layout)), false],
    ["SharedArrayBuffer with locks", new SharedArrayBuffer(tableBytes(layout)), true],
  ] as const
) {
  Deno.test(`prototype table (${name}) answers as a Map does under random SETs and GETs`, () => {
    const table = new ProtoTable(buffer, layout, locked);
    const model = new Map<string, string>();
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 5000; i++) {
      const key = `k${random(300)}`;
      if (random(2) === 0) {
        // Values of varied lengths: overwrites in place and overwrites that outgrow their room.
        const value = "v".repeat(random(40)) + i;
        assert.equal(set(table, key, value), true);
        model.set(key, value);
      } else {
        const value = model.get(key);
        assert.equal(
          get(table, key),
          value === undefined ? "$-1\r\n" : `$${value.length}\r\n${value}\r\n`,
        );
      }
    }
    assert.equal(table.size, model.size);
  });
}

Deno.test("prototype table refuses a key once its stripe is full, and keeps the others", () => {
  const small: TableLayout = { stripes: 1, slotsPerStripe: 8, arenaBytesPerStripe: 1024 };
  const table = new ProtoTable(new ArrayBuffer(tableBytes(small)), small, false);
  for (let i = 0; i < 6; i++) assert.equal(set(table, `k${i}`, "v"), true);
  // 3/4 of 8 slots: the seventh key would pass the load limit.
  assert.equal(set(table, "k6", "v"), false);
  for (let i = 0; i < 6; i++) assert.equal(get(table, `k${i}`), "$1\r\nv\r\n");
  assert.equal(get(table, "k6"), "$-1\r\n");
});
