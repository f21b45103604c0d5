import assert from "node:assert/strict";
import { Engine } from "../storage/engine.ts";
import { Store } from "../storage/store.ts";
import { applyHashSets } from "../types/hash/hash.ts";
import { EvictionPool } from "./eviction_pool.ts";
import { LFU_INIT_VAL, lfuCounter, lfuNewWord, lfuTouched } from "./lfu.ts";
import { policyTraits } from "./policy.ts";

/** mulberry32. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The engine's cost summed from its partitions' tables (what the running meter must equal). */
function recomputed(engine: Engine): number {
  let bytes = 0;
  for (let p = 0; p < engine.partitionCount; p++) {
    bytes += engine.partition(p).values.accountedBytes;
  }
  return bytes;
}

Deno.test("memory meter: the running total equals the tables' costs through sets, overwrites, objects, deletes, compaction and clear", () => {
  const random = prng(18);
  const engine = new Engine(4);
  const keys = Array.from({ length: 500 }, (_, i) => `k${i}`);
  for (let op = 0; op < 50_000; op++) {
    const key = keys[Math.floor(random() * keys.length)];
    const r = random();
    if (r < 0.45) engine.set(key, "x".repeat(Math.floor(random() * (r < 0.02 ? 9000 : 300))));
    else if (r < 0.5) {
      // A hash grown in place (as Database.changeCollection does it).
      engine.willChange(key);
      if (typeof engine.get(key, false) === "string") engine.delete(key);
      applyHashSets(engine, key, [`f${op}${"v".repeat(5000)}`], [`f${op}`.length]);
      engine.changed(key);
    } else if (r < 0.55) engine.set(key, "v", Date.now() + 100_000);
    else if (r < 0.6) engine.setRange(key, Math.floor(random() * 6000), "abc");
    else engine.delete(key);
    if (op % 5000 === 0) {
      const expiring = engine.expiringCount;
      assert.ok(engine.accountedBytes >= recomputed(engine) + expiring * 64);
    }
    if (op === 25_000) engine.clear();
  }
  let expiring = 0;
  for (let p = 0; p < engine.partitionCount; p++) {
    const { values } = engine.partition(p);
    for (let e = values.nextVolatileEntry(0); e >= 0; e = values.nextVolatileEntry(e + 1)) {
      expiring++;
    }
  }
  assert.equal(engine.expiringCount, expiring);
  assert.equal(engine.accountedBytes, recomputed(engine) + expiring * 64);
  for (const key of keys) engine.delete(key);
  assert.equal(engine.accountedBytes, 0);
});

Deno.test("LFU: Redis's counter starts at 5, grows logarithmically, decays a step per lfu-decay-time minutes", () => {
  const t0 = 1_700_000_000_000;
  const word = lfuNewWord(t0);
  assert.equal(lfuCounter(word, t0, 1), LFU_INIT_VAL);
  // At the initial value an access always counts (probability 1).
  assert.equal(lfuTouched(word, t0, 10, 1, 0.999) & 0xff, LFU_INIT_VAL + 1);
  // Far above it, with log factor 10, almost never.
  let w = word;
  const random = prng(1);
  for (let i = 0; i < 100_000; i++) w = lfuTouched(w, t0, 10, 1, random());
  const counter = w & 0xff;
  assert.ok(counter > 20 && counter < 200, `counter after 100k accesses: ${counter}`);
  assert.equal(lfuCounter(w, t0 + 10 * 60_000, 1), counter - 10);
  assert.equal(lfuCounter(w, t0 + 10 * 60_000, 5), counter - 2);
  assert.equal(lfuCounter(w, t0 + 10 * 60_000, 0), counter);
  assert.equal(lfuCounter(w, t0 + 1000 * 60_000, 1), 0);
});

Deno.test("eviction pool: keeps the 16 highest scores, best first, one place per key", () => {
  const pool = new EvictionPool();
  for (let i = 0; i < 40; i++) pool.offer(0, `k${i}`, (i * 7) % 40);
  pool.offer(0, "k39", 100); // re-offered with a new score: moves, not duplicated
  assert.equal(pool.size, 16);
  assert.deepEqual(pool.takeBest(), { db: 0, key: "k39" });
  const scores: number[] = [];
  for (let best = pool.takeBest(); best !== undefined; best = pool.takeBest()) {
    scores.push((Number(best.key.slice(1)) * 7) % 40);
  }
  // k39's first score (33) was replaced by its second.
  assert.deepEqual(scores, [39, 38, 37, 36, 35, 34, 32, 31, 30, 29, 28, 27, 26, 25, 24]);
});

Deno.test("policies: scope and rank of each of Redis's eight", () => {
  assert.deepEqual(policyTraits("volatile-ttl"), { volatileOnly: true, rank: "ttl" });
  assert.deepEqual(policyTraits("allkeys-random"), { volatileOnly: false, rank: "random" });
  assert.deepEqual(policyTraits("noeviction"), { volatileOnly: false, rank: "none" });
});

Deno.test("eviction: volatile policies evict only keys with a TTL, volatile-ttl the nearest first; none left means -OOM", () => {
  for (
    const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] as const
  ) {
    const store = new Store([new Engine(4), new Engine(4)], undefined);
    const now = Date.now();
    for (let i = 0; i < 200; i++) store.set(`keep${i}`, "x".repeat(100));
    for (let i = 0; i < 200; i++) {
      store.database(1).set(`ttl${i}`, "x".repeat(100), now + 1_000_000 + i * 1000);
    }
    const memory = store.memory;
    memory.configure({ policy, maxmemoryBytes: memory.countedBytes() - 5000 });
    assert.equal(memory.freeMemory(), true, policy);
    assert.equal(store.database(0).size, 200, `${policy} evicted a key without a TTL`);
    assert.ok(store.database(1).size < 200, policy);
    if (policy === "volatile-ttl") {
      // Sampling approximates: the evicted expire sooner on average than the kept.
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const evicted: number[] = [];
      const kept: number[] = [];
      for (let i = 0; i < 200; i++) {
        (store.database(1).get(`ttl${i}`) === undefined ? evicted : kept).push(i);
      }
      assert.ok(mean(evicted) < mean(kept) / 2, `evicted ${evicted}`);
    }
    memory.configure({ maxmemoryBytes: 1 });
    assert.equal(memory.freeMemory(), false, `${policy}: only keys without a TTL are left`);
    assert.equal(store.database(1).size, 0);
    assert.equal(store.database(0).size, 200);
    // The access-word mode is process-wide: leave it as other tests expect.
    memory.configure({ policy: "noeviction", maxmemoryBytes: 0 });
  }
});

Deno.test("eviction: allkeys-lru evicts the least recently used first", async () => {
  const store = new Store(new Engine(4), undefined);
  const { setAccessClock } = await import("../storage/key_table.ts");
  const t0 = Date.now();
  setAccessClock(t0);
  for (let i = 0; i < 100; i++) store.set(`old${i}`, "x".repeat(100));
  setAccessClock(t0 + 100_000);
  for (let i = 0; i < 100; i++) store.set(`new${i}`, "x".repeat(100));
  const memory = store.memory;
  memory.configure({ policy: "allkeys-lru", maxmemoryBytes: memory.countedBytes() * 0.6 });
  memory.freeMemory();
  let oldLeft = 0;
  let newLeft = 0;
  for (let i = 0; i < 100; i++) {
    if (store.get(`old${i}`) !== undefined) oldLeft++;
    if (store.get(`new${i}`) !== undefined) newLeft++;
  }
  setAccessClock(Date.now());
  assert.ok(newLeft > 90 && oldLeft < 40, `old ${oldLeft}, new ${newLeft}`);
});
