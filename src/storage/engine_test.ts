import assert from "node:assert/strict";
import { Engine, PREFETCH_MAX_KEYS } from "./engine.ts";
import { fnv1a, partitionIndex } from "./hash.ts";
import { WalOp } from "../wal/record.ts";
import { Store } from "./store.ts";
import { SetValue, SNAPSHOT_TYPE_SET } from "../types/set/set.ts";
import { HashValue, SNAPSHOT_TYPE_HASH } from "../types/hash/hash.ts";
import { INLINE_MAX_BYTES } from "../types/string/big_string.ts";

Deno.test("Engine: get/set/delete/size", () => {
  const engine = new Engine(16);
  assert.equal(engine.size, 0);
  assert.equal(engine.get("user1"), undefined);
  engine.set("user1", "John");
  assert.equal(engine.get("user1"), "John");
  assert.equal(engine.size, 1);
  engine.set("user1", "Jane");
  assert.equal(engine.get("user1"), "Jane");
  assert.equal(engine.size, 1);
  engine.set("user2", "");
  assert.equal(engine.get("user2"), "");
  assert.equal(engine.size, 2);
  assert.equal(engine.delete("user1"), true);
  assert.equal(engine.delete("user1"), false);
  assert.equal(engine.get("user1"), undefined);
  assert.equal(engine.size, 1);
});

Deno.test("Engine: binary keys and values are exact", () => {
  const engine = new Engine(16);
  const keys = ["", "\x00", "\x00\x00", "\xff", "a b", "a\nb", "\r\n", "\x80\x81\xfe"];
  keys.forEach((k, i) => engine.set(k, `v${i}\x00\xff`));
  assert.equal(engine.size, keys.length);
  keys.forEach((k, i) => assert.equal(engine.get(k), `v${i}\x00\xff`, JSON.stringify(k)));
  assert.equal(engine.get("\x00\x00\x00"), undefined);
  assert.equal(engine.delete("\x00"), true);
  assert.equal(engine.get("\x00\x00"), "v2\x00\xff");
  assert.equal(engine.get(""), "v0\x00\xff");
});

Deno.test("Engine: clear removes every key", () => {
  const engine = new Engine(4);
  for (let i = 0; i < 100; i++) engine.set(`k${i}`, "v");
  assert.equal(engine.size, 100);
  engine.clear();
  assert.equal(engine.size, 0);
  assert.equal(engine.get("k1"), undefined);
  for (let i = 0; i < 4; i++) assert.equal(engine.partition(i).values.size, 0);
  engine.set("k1", "again");
  assert.equal(engine.get("k1"), "again");
});

Deno.test("Engine: 10k keys use every one of 16 partitions, each key in its hash's", () => {
  const engine = new Engine(16);
  assert.equal(engine.partitionCount, 16);
  for (let i = 0; i < 10_000; i++) engine.set(`key${i}`, `value${i}`);
  assert.equal(engine.size, 10_000);
  let total = 0;
  for (let p = 0; p < 16; p++) {
    const partition = engine.partition(p).values;
    assert.ok(partition.size > 0, `partition ${p} empty`);
    total += partition.size;
    for (const key of partition.keys()) assert.equal(partitionIndex(fnv1a(key), 16), p);
  }
  assert.equal(total, 10_000);
  for (let i = 0; i < 10_000; i += 97) assert.equal(engine.get(`key${i}`), `value${i}`);
});

Deno.test("Engine: one partition works", () => {
  const engine = new Engine(1);
  engine.set("a", "1");
  engine.set("b", "2");
  assert.equal(engine.partition(0).values.size, 2);
  assert.equal(engine.get("b"), "2");
});

Deno.test("Engine: constructor rejects 0, negative and non-integer partitions", () => {
  for (const n of [0, -1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => new Engine(n), RangeError, String(n));
  }
});

Deno.test("Store without a log: set/get/delete", async () => {
  const engine = new Engine(16);
  const store = new Store(engine, undefined);
  assert.equal(store.log, undefined);
  assert.equal(store.get("k"), undefined);
  store.set("k", "v");
  assert.equal(store.get("k"), "v");
  assert.equal(engine.get("k"), "v");
  store.set("\x00k", "\xff");
  assert.equal(store.get("\x00k"), "\xff");
  assert.equal(store.delete("k"), true);
  assert.equal(store.delete("k"), false);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.delete("never"), false);
  assert.equal(engine.size, 1);
  assert.equal(store.commitPending, false);
  assert.equal(await store.commit(), undefined);
});

Deno.test("Store: a log sees each change in order before memory does", async () => {
  const engine = new Engine(4);
  const seen: [number, string, string, boolean][] = [];
  let lsn = 0;
  let durable = 0;
  const store = new Store(engine, {
    append(op, _db, key, value) {
      seen.push([op, key, value, engine.get(key) !== undefined]);
      return ++lsn;
    },
    commit() {
      durable = lsn;
      return Promise.resolve();
    },
    appendAt: () => {
      throw new Error("unused");
    },
    discardAll: () => Promise.resolve(),
    truncateAfter: () => Promise.resolve(""),
    beginGroup() {},
    endGroup() {},
    get lastLsn() {
      return lsn;
    },
    get durableLsn() {
      return durable;
    },
  });
  store.set("k", "v");
  assert.equal(store.commitPending, true);
  store.delete("k");
  store.delete("missing");
  await store.commit();
  assert.equal(store.commitPending, false);
  assert.deepEqual(seen, [
    [WalOp.Set, "k", "v", false],
    [WalOp.Del, "k", "", true],
  ]);
});

Deno.test("Engine: expiry times are kept per key and counted", () => {
  const engine = new Engine(4);
  engine.set("a", "1", 5000);
  engine.set("b", "2");
  assert.equal(engine.expiresAt("a"), 5000);
  assert.equal(engine.expiresAt("b"), 0);
  assert.equal(engine.expiringCount, 1);
  assert.equal(engine.setExpiry("b", 7000), true);
  assert.equal(engine.setExpiry("missing", 7000), false);
  assert.equal(engine.expiringCount, 2);
  engine.set("a", "1b");
  assert.equal(engine.expiresAt("a"), 0, "a plain set clears the expiry");
  assert.equal(engine.expiringCount, 1);
  engine.delete("b");
  assert.equal(engine.expiringCount, 0);
  engine.set("c", "3", 1);
  engine.clear();
  assert.equal(engine.expiringCount, 0);
  assert.equal(engine.size, 0);
});

Deno.test("Engine: prefetch changes nothing, for present, missing, deleted and too many keys", () => {
  const engine = new Engine(16);
  for (let i = 0; i < 1000; i++) engine.set(`k${i}`, `v${i}`);
  for (let i = 0; i < 1000; i += 3) engine.delete(`k${i}`);
  const keys = Array.from({ length: 3 * PREFETCH_MAX_KEYS }, (_, i) => `k${i * 7}`);
  keys.push("missing", "", "\x00\xff");
  engine.prefetch(keys);
  engine.prefetch([]);
  assert.equal(engine.size, 1000 - 334);
  for (let i = 0; i < 1000; i++) {
    assert.equal(engine.get(`k${i}`), i % 3 === 0 ? undefined : `v${i}`);
  }
  assert.equal(engine.get("missing"), undefined);
});

Deno.test("Engine: lookups after a prefetch find their keys in any order, skipped or not prefetched", () => {
  const engine = new Engine(16);
  for (let i = 0; i < 100; i++) engine.set(`k${i}`, `v${i}`);
  // Keys of one length: the prefetched ones compare by their bytes.
  const keys = ["k10", "k11", "k12", "k13", "k14", "k15"];
  engine.prefetch(keys);
  // In order; one skipped; out of order; never prefetched; a repeat; copies, not the same strings.
  const lookups = ["k10", "k12", "k14", "k13", "k99", "k15", "k15", "k11", "k1" + "0", "nope"];
  for (const key of lookups) {
    assert.equal(engine.get(key), key === "nope" ? undefined : `v${key.slice(1)}`, key);
  }
  // A key too long to be kept and the empty key, prefetched side by side.
  const long = "x".repeat(300);
  engine.set(long, "long");
  engine.set("", "empty");
  engine.prefetch([long, "", long]);
  assert.equal(engine.get(""), "empty");
  assert.equal(engine.get(long), "long");
  assert.equal(engine.get("k10"), "v10");
  engine.set("k12", "changed");
  assert.equal(engine.get("k12"), "changed");
  // A later prefetch of other keys: the earlier ones still found.
  engine.prefetch(["k20", "k21"]);
  for (let i = 0; i < 100; i++) assert.equal(engine.get(`k${i}`), i === 12 ? "changed" : `v${i}`);
});

Deno.test("Engine: prefetch of collection elements changes nothing, whatever the keys hold", () => {
  const engine = new Engine(16);
  const big = new HashValue();
  for (let i = 0; i < 2000; i++) big.set(`element:${i}`, `${i}`);
  engine.setCollection("big", big);
  const small = new HashValue();
  small.set("f", "v");
  engine.setCollection("small", small); // held inline: no element map
  engine.set("string", "v");
  const members = SetValue.of(Array.from({ length: 2000 }, (_, i) => `member:${i}`), true);
  engine.setCollection("set", members);
  const keys = ["big", "big", "small", "string", "missing", "big", "set", "set"];
  const elements = ["element:7", "absent", "f", "anything", "x", undefined, "member:9", "nope"];
  engine.prefetch(keys, elements);
  engine.prefetch(keys, []);
  assert.equal(engine.get("big"), big);
  assert.equal(big.length, 2000);
  assert.equal(big.get("element:7"), "7");
  assert.equal(big.get("absent"), undefined);
  assert.deepEqual((engine.get("small") as HashValue).entries(), [["f", "v"]]);
  assert.equal(engine.get("string"), "v");
  assert.equal(engine.get("set"), members);
  assert.equal(members.length, 2000);
  assert.ok(members.has("member:9") && !members.has("nope"));
  assert.equal(engine.size, 4);
});

Deno.test("typeOf answers a key's type without unpacking a collection held inline", () => {
  const engine = new Engine(2);
  assert.equal(engine.typeOf("missing"), -1);
  engine.set("s", "value");
  assert.equal(engine.typeOf("s"), 0);
  engine.set("big", "x".repeat(INLINE_MAX_BYTES + 1));
  assert.equal(engine.typeOf("big"), 0, "a string held as an object is a string");
  const small = new SetValue();
  small.add("a");
  engine.setCollection("small", small);
  assert.notEqual(engine.packed("small", SNAPSHOT_TYPE_SET), undefined, "held inline");
  assert.equal(engine.typeOf("small"), SNAPSHOT_TYPE_SET);
  const hash = new HashValue();
  for (let i = 0; i < 1000; i++) hash.set(`f${i}`, "v");
  engine.setCollection("h", hash);
  assert.equal(engine.packed("h", SNAPSHOT_TYPE_HASH), undefined, "held as an object");
  assert.equal(engine.typeOf("h"), SNAPSHOT_TYPE_HASH);
});
