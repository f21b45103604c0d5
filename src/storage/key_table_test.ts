import assert from "node:assert/strict";
import { EncodingHint, KeyTable, MAX_ARENA_BYTES } from "./key_table.ts";
import { fnv1a } from "./hash.ts";
import { bytesToBinary } from "../bytes/binary_string.ts";
import { seededRandom as prng } from "../_seeded_random.ts";

function binary(random: () => number, maxLength: number): string {
  const length = Math.floor(random() * (maxLength + 1));
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(Math.floor(random() * 256));
  return s;
}

function contents(table: KeyTable): Map<string, string> {
  const seen = new Map<string, string>();
  for (let i = table.nextEntry(0); i >= 0; i = table.nextEntry(i + 1)) {
    const key = table.keyAt(i);
    assert.ok(!seen.has(key), `key ${JSON.stringify(key)} walked twice`);
    seen.set(key, table.valueAt(i));
  }
  return seen;
}

Deno.test("KeyTable: get/set/delete, empty and binary keys and values", () => {
  const table = new KeyTable();
  const h = (k: string) => fnv1a(k);
  assert.equal(table.get("a", h("a")), undefined);
  table.set("a", h("a"), "1");
  table.set("", h(""), "");
  table.set("\x00\xff", h("\x00\xff"), "\r\n\x00");
  assert.equal(table.size, 3);
  assert.equal(table.get("a", h("a")), "1");
  assert.equal(table.get("", h("")), "");
  assert.equal(table.get("\x00\xff", h("\x00\xff")), "\r\n\x00");
  assert.equal(table.get("\xff\x00", h("\xff\x00")), undefined);
  table.set("a", h("a"), "a much longer value than before");
  assert.equal(table.get("a", h("a")), "a much longer value than before");
  assert.equal(table.delete("a", h("a")), true);
  assert.equal(table.delete("a", h("a")), false);
  assert.equal(table.has("a", h("a")), false);
  assert.equal(table.size, 2);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get("", h("")), undefined);
});

Deno.test("KeyTable: colliding hashes are told apart by their bytes", () => {
  // Every key with the same hash (and so the same tag): one long probe
  // run, through growth, shifted on delete.
  const table = new KeyTable(MAX_ARENA_BYTES, undefined, () => 7);
  for (let i = 0; i < 200; i++) table.set(`k${i}`, 7, `v${i}`);
  for (let i = 0; i < 200; i += 3) assert.equal(table.delete(`k${i}`, 7), true);
  for (let i = 0; i < 200; i++) {
    assert.equal(table.get(`k${i}`, 7), i % 3 === 0 ? undefined : `v${i}`, `k${i}`);
  }
});

Deno.test("KeyTable: 300k random operations match a Map, through growth and compaction", () => {
  const random = prng(42);
  const table = new KeyTable();
  const expected = new Map<string, string>();
  const keys = Array.from({ length: 3000 }, () => binary(random, 24));
  for (let op = 0; op < 300_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const hash = fnv1a(key);
    const r = random();
    if (r < 0.5) {
      // Values of varied sizes: overwrites both fit in place and move.
      const value = binary(random, r < 0.05 ? 2000 : 40);
      table.set(key, hash, value);
      expected.set(key, value);
    } else if (r < 0.75) {
      assert.equal(table.delete(key, hash), expected.delete(key));
    } else {
      assert.equal(table.get(key, hash), expected.get(key));
    }
    if (op % 50_000 === 0) assert.deepEqual(contents(table), expected);
  }
  assert.equal(table.size, expected.size);
  assert.deepEqual(contents(table), expected);
  // Dead bytes are reclaimed: the arena stays within a small multiple of
  // the live bytes (once a migration under way is done: lookups end it).
  while (table.resizing) table.get("", fnv1a(""));
  let live = 0;
  for (const [k, v] of expected) live += k.length + v.length;
  assert.ok(table.arenaBytes < 4 * live + 4096, `arena ${table.arenaBytes} for ${live} live`);
});

Deno.test("KeyTable: a walk visits every key present throughout exactly once, despite changes", () => {
  const random = prng(7);
  const table = new KeyTable();
  const stable = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const key = `stable:${i}`;
    table.set(key, fnv1a(key), "x");
    stable.add(key);
  }
  const seen = new Set<string>();
  let churn = 0;
  for (let i = table.nextEntry(0); i >= 0; i = table.nextEntry(i + 1)) {
    const key = table.keyAt(i);
    if (key.startsWith("stable:")) {
      assert.ok(!seen.has(key), `${key} twice`);
      seen.add(key);
    }
    // Between steps: new keys, deletes of other keys, growing values.
    for (let j = 0; j < 3; j++) {
      const other = `churn:${Math.floor(random() * 2000)}`;
      if (random() < 0.6) table.set(other, fnv1a(other), "y".repeat(churn++ % 300));
      else table.delete(other, fnv1a(other));
    }
    const grown = `stable:${Math.floor(random() * 5000)}`;
    table.set(grown, fnv1a(grown), "z".repeat(Math.floor(random() * 500)));
  }
  assert.deepEqual(seen, stable);
});

Deno.test("KeyTable: room is judged against the arena limit before a write", () => {
  const table = new KeyTable();
  assert.equal(table.hasRoomFor(1000), true);
  assert.equal(table.hasRoomFor(MAX_ARENA_BYTES - 8), true);
  assert.equal(table.hasRoomFor(MAX_ARENA_BYTES + 1), false);
  assert.equal(table.hasRoomFor(2 ** 40), false);
  table.set("k", fnv1a("k"), "v".repeat(1000)); // 1,001 bytes: 1,008 of room
  assert.equal(table.hasRoomFor(MAX_ARENA_BYTES - 1016), true);
  assert.equal(table.hasRoomFor(MAX_ARENA_BYTES - 1000), false);
});

Deno.test("KeyTable: at its arena limit a write throws and changes nothing; a full arena compacts instead of overflowing", () => {
  const table = new KeyTable(4096);
  const expected = new Map<string, string>();
  const put = (key: string, value: string) => {
    table.set(key, fnv1a(key), value);
    expected.set(key, value);
  };
  // 10 entries of 256 bytes of room (3-byte key, 253-byte value): 2,560.
  for (let i = 0; i < 10; i++) put(`k0${i}`, "v".repeat(253));
  // A new key that does not fit: nothing changes, the walk has no phantom.
  assert.throws(() => table.set("new", fnv1a("new"), "n".repeat(1600)), RangeError);
  assert.deepEqual(contents(table), expected);
  // An overwrite that does not fit: the old value stays.
  assert.throws(() => table.set("k00", fnv1a("k00"), "o".repeat(1600)), RangeError);
  assert.equal(table.get("k00", fnv1a("k00")), "v".repeat(253));
  // Overwrites that move (each to 384 bytes of room: 303 and a quarter) fill
  // the arena with dead rooms; at the limit it compacts instead of overflowing.
  for (let i = 1; i <= 8; i++) {
    put(`k0${i}`, "w".repeat(300));
    assert.deepEqual(contents(table), expected);
    assert.ok(table.arenaBytes <= 4096, `${table.arenaBytes}`);
  }
  assert.equal(table.arenaBytes, 4096);
  // The value whose overwrite failed survived the compaction.
  assert.equal(table.get("k00", fnv1a("k00")), "v".repeat(253));
});

Deno.test("KeyTable: the prefetch steps follow a key's lookup chain to its bytes", () => {
  const table = new KeyTable();
  // Empty: every step says "nothing" and reads nothing.
  assert.equal(table.probeEntry(fnv1a("a")), -1);
  assert.equal(table.entryOffset(-1), -1);
  assert.equal(table.arenaByte(-1), 0);
  for (let i = 0; i < 100; i++) table.set(`key${i}`, fnv1a(`key${i}`), `v${i}`);
  let found = 0;
  for (let i = 0; i < 100; i++) {
    const entry = table.probeEntry(fnv1a(`key${i}`));
    if (entry < 0) continue;
    // The first entry of the run with the key's slot tag: the key's own
    // unless an earlier key in the run shares the tag (6 bits: rare).
    const offset = table.entryOffset(entry);
    assert.ok(offset >= 0 && offset < table.arenaBytes);
    assert.equal(String.fromCharCode(table.arenaByte(offset)), "k");
    if (table.keyAt(entry) === `key${i}`) found++;
  }
  assert.ok(found >= 95, `${found} of 100 keys probed to their own entry`);
  // Beyond the used arena (a stale offset): no read.
  assert.equal(table.arenaByte(table.arenaBytes), 0);
});

Deno.test("KeyTable: under steady churn (a cache evicting) the arena stays near 1.5x its live bytes, one length throughout", () => {
  const table = new KeyTable();
  const value = "v".repeat(1000);
  let next = 0;
  // 2,000 live keys, each write of a new one deletes the oldest.
  for (; next < 2000; next++) table.set(`k${next}`, fnv1a(`k${next}`), value);
  const capacities = new Set<number>();
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 2000; i++, next++) {
      table.delete(`k${next - 2000}`, fnv1a(`k${next - 2000}`));
      table.set(`k${next}`, fnv1a(`k${next}`), value);
    }
    capacities.add(table.arenaCapacity);
  }
  const live = 2000 * 1008;
  assert.ok(table.arenaCapacity <= 1.9 * live, `arena ${table.arenaCapacity} for ${live} live`);
  // Each fresh arena is sized from the same live bytes: one length throughout.
  assert.ok(capacities.size <= 2, `arena lengths seen: ${[...capacities]}`);
  assert.equal(table.size, 2000);
  assert.equal(table.get(`k${next - 1}`, fnv1a(`k${next - 1}`)), value);
  assert.equal(table.get(`k${next - 2001}`, fnv1a(`k${next - 2001}`)), undefined);
});

Deno.test("KeyTable: expiry times follow their keys through overwrites, deletes, reused entries, growth and clear (a model)", () => {
  const random = prng(7);
  const table = new KeyTable();
  const expiry = new Map<string, number>();
  const keys = Array.from({ length: 2000 }, (_, i) => `key:${i}`);
  const check = () => {
    for (const key of keys) assert.equal(table.expiryOf(key, fnv1a(key)), expiry.get(key) ?? 0);
    let walked = 0;
    for (let e = table.nextVolatileEntry(0); e >= 0; e = table.nextVolatileEntry(e + 1)) {
      assert.equal(table.expiryAt(e), expiry.get(table.keyAt(e)));
      walked++;
    }
    assert.equal(walked, expiry.size);
    assert.equal(table.volatileCount, expiry.size);
  };
  for (let op = 0; op < 100_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const hash = fnv1a(key);
    const r = random();
    if (r < 0.4) {
      // An overwrite keeps the key's entry, and so its time (the engine clears it for SET).
      table.set(key, hash, "v".repeat(Math.floor(random() * 40)));
    } else if (r < 0.7) {
      const entry = table.entryOf(key, hash);
      if (entry >= 0) {
        const ms = random() < 0.2 ? 0 : 1 + Math.floor(random() * 1e12);
        table.setExpiryAt(entry, ms);
        if (ms === 0) expiry.delete(key);
        else expiry.set(key, ms);
      }
    } else {
      // A deleted key's entry is reused by the next new key, which must not inherit its time.
      table.delete(key, hash);
      expiry.delete(key);
    }
    if (op % 10_000 === 0) check();
  }
  check();
  assert.ok(expiry.size > 100, "the model reached many keys with a time");
  table.clear();
  expiry.clear();
  check();
});

Deno.test("KeyTable: a value that outgrows its room moves once to a quarter more, then grows in place", () => {
  const table = new KeyTable();
  const hash = fnv1a("k");
  table.set("k", hash, "v".repeat(100));
  const placed = table.arenaBytes;
  // 201 bytes of key and value: room for 251 (rounded to 256).
  table.set("k", hash, "v".repeat(200));
  assert.equal(table.arenaBytes, placed + 256);
  // Growing within that room writes in place: nothing more is allocated.
  for (let length = 201; length <= 255; length += 9) {
    table.set("k", hash, "w".repeat(length));
    assert.equal(table.arenaBytes, placed + 256);
    assert.equal(table.get("k", hash), "w".repeat(length));
  }
  table.set("k", hash, "x".repeat(256));
  assert.equal(table.arenaBytes, placed + 256 + 328);
});

Deno.test("KeyTable: near its arena limit a move takes only the room it needs", () => {
  const table = new KeyTable(1024);
  const hash = fnv1a("k");
  table.set("k", hash, "v".repeat(300)); // 304 of room
  // 601 bytes: a quarter more (752) beside the old 304 would pass 1,024; 608 does not.
  table.set("k", hash, "w".repeat(600));
  assert.equal(table.arenaBytes, 304 + 608);
  assert.equal(table.get("k", hash), "w".repeat(600));
});

Deno.test("KeyTable: tombstones left by deletes are cleared by a rebuild of the same size, and never hide a key", () => {
  const random = prng(11);
  const table = new KeyTable();
  const live: string[] = [];
  let next = 0;
  for (; next < 1000; next++) {
    table.set(`k${next}`, fnv1a(`k${next}`), `v${next}`);
    live.push(`k${next}`);
  }
  const slots = table.slotCount;
  // 1,000 live keys at every moment; 200k deletes of random ones, each
  // followed by a new key (a cache evicting): slots stay as they were.
  for (let op = 0; op < 200_000; op++) {
    const at = Math.floor(random() * live.length);
    const gone = live[at];
    assert.equal(table.delete(gone, fnv1a(gone)), true);
    const key = `k${next}`;
    table.set(key, fnv1a(key), `v${next++}`);
    live[at] = key;
    if (op % 10_000 === 0) {
      for (const k of live) assert.equal(table.get(k, fnv1a(k)), `v${k.slice(1)}`, k);
      assert.equal(table.get(gone, fnv1a(gone)), undefined);
    }
  }
  assert.equal(table.size, 1000);
  assert.equal(table.slotCount, slots);
  for (const k of live) assert.equal(table.get(k, fnv1a(k)), `v${k.slice(1)}`, k);
});

Deno.test("KeyTable: long keys get a slot per 256 of their bytes, so a rebuild under churn hashes ~1 KiB a delete at most", () => {
  const table = new KeyTable();
  const long = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(1 << 20));
  for (const key of long) table.set(key, fnv1a(key), "big");
  // Churn of small keys next to them: each delete leaves a tombstone, and
  // the rebuilds that clear them hash the six long keys again.
  for (let i = 0; i < 2000; i++) {
    table.set(`s${i}`, fnv1a(`s${i}`), "v");
    if (i >= 4) assert.equal(table.delete(`s${i - 4}`, fnv1a(`s${i - 4}`)), true);
  }
  // At least one slot per 256 bytes of keys: a rebuild (at most one per a
  // quarter of the slots deleted) then hashes at most ~1 KiB a delete.
  assert.ok(table.slotCount >= (6 << 20) / 256, `${table.slotCount} slots`);
  for (const key of long) assert.equal(table.get(key, fnv1a(key)), "big");
  for (let i = 1996; i < 2000; i++) assert.equal(table.get(`s${i}`, fnv1a(`s${i}`)), "v");
  assert.equal(table.size, 10);
});

Deno.test("KeyTable: slot rebuilds and arena migrations go a step at a time, and every key is found meanwhile", () => {
  const random = prng(23);
  const table = new KeyTable();
  const expected = new Map<string, string>();
  const names: string[] = [];
  // Every lookup moves a resize on: calls are what a resize is spread over.
  let calls = 0;
  const check = (key: string) => {
    calls++;
    assert.equal(table.get(key, fnv1a(key)), expected.get(key), key);
  };
  let resizeStart = -1;
  let resizingOps = 0;
  let longestResize = 0;
  let resizes = 0;
  const afterOp = (touched: string) => {
    check(touched);
    if (!table.resizing) {
      if (resizeStart >= 0) {
        // A resize just ended: nothing was lost or walked twice.
        assert.deepEqual(contents(table), expected);
        longestResize = Math.max(longestResize, calls - resizeStart);
        resizes++;
      }
      resizeStart = -1;
      resizingOps = 0;
      return;
    }
    if (resizeStart < 0) resizeStart = calls;
    resizingOps++;
    // Meanwhile: keys in the old slots or arena, and in the new, are found
    // (every key at two moments of each resize, else a sample).
    if (resizingOps === 3 || resizingOps === 40) { for (const key of expected.keys()) check(key); }
    for (let i = 0; i < 8; i++) check(names[Math.floor(random() * names.length)]);
    const sampled = table.randomEntry(random()); // no lookup: does not step
    assert.ok(sampled >= 0 && expected.has(table.keyAt(sampled)), "a sample is a live key");
  };
  // Growth to 40k keys: the slots are rebuilt and the arena replaced several times.
  for (let i = 0; i < 40_000; i++) {
    const key = `key:${i}:${binary(random, 8)}`;
    const value = binary(random, 40);
    names.push(key);
    calls++;
    table.set(key, fnv1a(key), value);
    expected.set(key, value);
    afterOp(key);
  }
  // Churn: deletes (tombstones, dead rooms), new keys, overwrites that move.
  for (let op = 0; op < 200_000; op++) {
    const r = random();
    if (r < 0.35) {
      const key = names[Math.floor(random() * names.length)];
      calls++;
      assert.equal(table.delete(key, fnv1a(key)), expected.delete(key));
      afterOp(key);
    } else {
      const key = r < 0.7 ? `new:${op}` : names[Math.floor(random() * names.length)];
      if (r < 0.7) names.push(key);
      const value = binary(random, r > 0.95 ? 300 : 40);
      calls++;
      table.set(key, fnv1a(key), value);
      expected.set(key, value);
      afterOp(key);
    }
  }
  assert.equal(table.size, expected.size);
  assert.deepEqual(contents(table), expected);
  assert.ok(resizes >= 6, `${resizes} resizes`);
  // The biggest resizes were spread over many calls, not done in one.
  assert.ok(longestResize >= 100, `longest resize: ${longestResize} calls`);
});

Deno.test("KeyTable: packed bytes spliced in place or into new room match a model, through growth, migration and compaction", () => {
  const random = prng(77);
  const table = new KeyTable();
  const expected = new Map<string, string>();
  const keys = Array.from({ length: 2000 }, (_, i) => `packed:${i}:${binary(random, 6)}`);
  const scratch = new Uint8Array(300);
  let resizingOps = 0;
  const valueOf = (key: string) => {
    const entry = table.entryOf(key, fnv1a(key));
    return entry < 0 ? undefined : table.valueAt(entry);
  };
  for (let op = 0; op < 200_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const hash = fnv1a(key);
    const old = expected.get(key);
    const r = random();
    if (old === undefined || r < 0.05) {
      const packed = binary(random, 60);
      table.setPacked(key, hash, packed, 1);
      expected.set(key, packed);
    } else if (r < 0.1) {
      assert.equal(table.delete(key, hash), true);
      expected.delete(key);
    } else if (r < 0.12) {
      // A plain string under the key: not packed bytes of any type.
      table.set(key, hash, "s");
      assert.equal(table.packedEntry(key, hash, 1), -1);
      table.setPacked(key, hash, old, 1);
    } else {
      const entry = table.packedEntry(key, hash, 1);
      assert.ok(entry >= 0, "a packed key is found as packed");
      assert.equal(table.packedEntry(key, hash, 2), -1, "not as another type");
      assert.equal(table.packedLength(entry), old.length);
      const range = { bytes: new Uint8Array(0), start: 0, length: 0 };
      table.inlineRange(entry, range);
      const { bytes: arena, start } = range;
      for (let i = 0; i < old.length; i++) assert.equal(arena[start + i], old.charCodeAt(i));
      const from = Math.floor(random() * (old.length + 1));
      const to = from + Math.floor(random() * (old.length - from + 1));
      // Mostly small edits; now and then a long insert (a move to new room).
      const insert = binary(random, random() < 0.1 ? 300 : 8);
      for (let i = 0; i < insert.length; i++) scratch[i] = insert.charCodeAt(i);
      table.splicePacked(entry, from, to, scratch, insert.length);
      const next = old.slice(0, from) + insert + old.slice(to);
      expected.set(key, next.length > 3000 ? next.slice(0, 100) : next);
      if (next.length > 3000) table.setPacked(key, hash, next.slice(0, 100), 1);
    }
    if (table.resizing) resizingOps++;
    if (op % 997 === 0) assert.equal(valueOf(key), expected.get(key));
    if (op % 40_000 === 0) {
      for (const [k, v] of expected) assert.equal(valueOf(k), v, k);
    }
  }
  for (const [k, v] of expected) assert.equal(valueOf(k), v, k);
  assert.equal(table.size, expected.size);
  assert.ok(resizingOps > 0, "splices ran while the table was resizing");
});

Deno.test("KeyTable: stringBytes finds a short string's bytes in place, and leaves every other value to get", () => {
  const random = prng(31);
  const table = new KeyTable();
  const expected = new Map<string, { kind: "string" | "packed" | "object"; value: string }>();
  const keys = Array.from({ length: 3000 }, (_, i) => `range:${i}:${binary(random, 4)}`);
  const out = { bytes: new Uint8Array(0), start: 0, length: 0 };
  const maxLength = 40;
  for (let op = 0; op < 150_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const hash = fnv1a(key);
    const r = random();
    if (r < 0.3) {
      const value = binary(random, 60);
      table.set(key, hash, value);
      expected.set(key, { kind: "string", value });
    } else if (r < 0.35) {
      const value = binary(random, 30);
      table.setPacked(key, hash, value, 1);
      expected.set(key, { kind: "packed", value });
    } else if (r < 0.38) {
      table.setObject(key, hash, { op });
      expected.set(key, { kind: "object", value: "" });
    } else if (r < 0.45) {
      table.delete(key, hash);
      expected.delete(key);
    } else {
      const want = expected.get(key);
      const found = table.stringBytes(key, hash, out, maxLength);
      if (want === undefined) assert.equal(found, 0, key);
      else if (want.kind !== "string" || want.value.length > maxLength) {
        assert.equal(found, -1, key);
      } else {
        assert.equal(found, 1, key);
        assert.equal(bytesToBinary(out.bytes, out.start, out.start + out.length), want.value, key);
      }
    }
  }
});

Deno.test("KeyTable: setDecimal writes a number over a string in its room, keeps its expiry, and refuses every other case (a model)", () => {
  const random = prng(47);
  const table = new KeyTable();
  const expected = new Map<string, { kind: "string" | "packed" | "object"; value: string }>();
  const expiry = new Map<string, number>();
  const keys = Array.from({ length: 2000 }, (_, i) => `counter:${i}`);
  let written = 0;
  let refused = 0;
  for (let op = 0; op < 100_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const hash = fnv1a(key);
    const r = random();
    if (r < 0.15) {
      const value = binary(random, 12);
      table.set(key, hash, value, EncodingHint.Raw);
      expected.set(key, { kind: "string", value });
    } else if (r < 0.18) {
      table.setPacked(key, hash, binary(random, 20), 1);
      expected.set(key, { kind: "packed", value: "" });
    } else if (r < 0.2) {
      table.setObject(key, hash, { op });
      expected.set(key, { kind: "object", value: "" });
    } else if (r < 0.25) {
      table.delete(key, hash);
      expected.delete(key);
      expiry.delete(key);
    } else if (r < 0.3 && expected.has(key)) {
      const ms = 1_000_000 + op;
      table.setExpiryAt(table.entryOf(key, hash), ms);
      expiry.set(key, ms);
    } else {
      const magnitude = Math.floor(random() * 10 ** Math.floor(random() * 16));
      const value = random() < 0.3 ? -magnitude : magnitude;
      const want = expected.get(key);
      const done = table.setDecimal(key, hash, value);
      if (want === undefined || want.kind !== "string") {
        assert.equal(done, false, key);
      } else if (done) {
        written++;
        want.value = String(value);
        assert.equal(table.hintAt(table.entryOf(key, hash)), EncodingHint.None);
      } else {
        refused++; // no room: the caller sets it
        table.set(key, hash, String(value));
        want.value = String(value);
      }
    }
  }
  assert.ok(written > 10_000 && refused > 1000, `${written} written, ${refused} refused`);
  for (const [key, want] of expected) {
    const hash = fnv1a(key);
    if (want.kind === "string") assert.equal(table.get(key, hash), want.value, key);
    assert.equal(table.expiryOf(key, hash), expiry.get(key) ?? 0, key);
  }
});
