import assert from "node:assert/strict";

const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  assert.deepEqual(actual, expected, message);
import { RankTree } from "./_zset_tree.ts";
import { MemberIndex } from "./_member_index.ts";
import { MAX_ARENA_MEMBER_BYTES, MemberArena } from "../member_arena.ts";
import { ZsetTable } from "./_zset_table.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { WalOp } from "../../wal/record.ts";
import { decodeScore, encodeScore, parseLexBound, parseScore, parseScoreBound } from "./score.ts";
import { applyZsetRems, applyZsetScores, ZsetValue } from "./zset.ts";
import { Engine } from "../../storage/engine.ts";
import { stringHash } from "../string_map.ts";

/** A deterministic generator (xorshift32) for reproducible random operations. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function byKey(a: [string, number], b: [string, number]): number {
  return a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

Deno.test("ZsetTable and RankTree: 20k random adds, updates and removes agree with a sorted model", () => {
  const table = new ZsetTable();
  const model = new Map<string, number>();
  const next = rng(7);
  for (let i = 0; i < 20_000; i++) {
    const member = `m${next(3000)}`;
    const op = next(10);
    if (op < 6) {
      const score = next(50) - 25;
      const added = table.set(member, score);
      assertEquals(added, !model.has(member));
      model.set(member, score);
    } else if (op < 9) {
      assertEquals(table.delete(member), model.delete(member));
    } else {
      // Pops take the tree's edges.
      const first = table.tree.edgeSlot(next(2) === 0);
      if (first >= 0) {
        const m = table.memberOf(first);
        table.delete(m);
        model.delete(m);
      }
    }
    if (i % 2000 === 0) table.tree.check();
  }
  table.tree.check();
  const sorted = [...model.entries()].sort(byKey);
  assertEquals(table.tree.size, sorted.length);
  sorted.forEach(([member], rank) => {
    assertEquals(table.tree.rankOf(table.index.get(member)!), rank);
    assertEquals(table.rank(member), rank);
  });
  const walked: string[] = [];
  table.tree.walk(0, false, (slot) => {
    walked.push(table.memberOf(slot));
    return true;
  });
  assertEquals(walked, sorted.map(([m]) => m));
  const back: string[] = [];
  table.tree.walk(sorted.length - 1, true, (slot) => {
    back.push(table.memberOf(slot));
    return true;
  });
  assertEquals(back, walked.reverse());
  for (const bound of [-30, -3, 0, 7, 30]) {
    assertEquals(
      table.tree.countBefore((score) => score < bound),
      sorted.filter(([, s]) => s < bound).length,
    );
  }
});

Deno.test("ZsetTable: the prefetch steps lead from a member's hash to its own slot and bytes", () => {
  const table = new ZsetTable();
  assertEquals(table.prefetchSlots.probeEntry(stringHash("absent")) - 1, -1);
  for (let i = 0; i < 1000; i++) table.set(`member:${i}`, i);
  let own = 0;
  for (let i = 0; i < 1000; i++) {
    const slot = table.prefetchSlots.probeEntry(stringHash(`member:${i}`)) - 1;
    assert.ok(slot >= 0 && slot < table.positions);
    const address = table.prefetchKeys.keyAddress(slot);
    assert.ok(address >= 0);
    // The member's length byte, where a compare starts.
    assertEquals(table.prefetchKeys.touchKey(address), table.memberLength(slot));
    assertEquals(table.touchScore(slot), table.scoreOf(slot) > 0 ? 1 : 0);
    if (table.memberOf(slot) === `member:${i}`) own++;
  }
  // Another member comes first only on a 32-bit hash collision.
  assert.ok(own >= 999, `${own} of 1000 probed to their own slot`);
  assertEquals(table.prefetchKeys.keyAddress(table.positions), -1);
});

Deno.test("RankTree: emptied by removals from both ends, then reused", () => {
  const keys = { scores: [] as number[], members: [] as string[] };
  const tree = new RankTree({
    scoreOf: (slot) => keys.scores[slot],
    memberOf: (slot) => keys.members[slot],
    compareMember: (slot, m) => keys.members[slot] < m ? -1 : keys.members[slot] > m ? 1 : 0,
  });
  for (let i = 0; i < 5000; i++) {
    keys.scores[i] = i;
    keys.members[i] = `m${i}`;
    tree.insert(i);
  }
  for (let i = 0; i < 2500; i++) {
    tree.removeEdge(true);
    tree.removeEdge(false);
  }
  tree.check();
  assertEquals(tree.size, 0);
  assertEquals(tree.edgeSlot(true), -1);
  tree.insert(42);
  assertEquals(tree.slotAt(0), 42);
  tree.check();
});

Deno.test("ZsetValue: listpack up to the limits, skiplist past them (never back), same contents", () => {
  const zset = new ZsetValue();
  for (let i = 0; i < ENCODING_LIMITS.zsetMaxListpackEntries; i++) zset.set(`m${i}`, i % 5);
  assertEquals(zset.encoding(), "listpack");
  assert(zset.packed() !== undefined);
  const before = zset.entries();
  zset.set("one-more", 2);
  assertEquals(zset.encoding(), "skiplist");
  assertEquals(zset.packed(), undefined);
  zset.delete("one-more");
  assertEquals(zset.encoding(), "skiplist");
  assertEquals(zset.entries(), before);
  const long = new ZsetValue();
  long.set("a".repeat(ENCODING_LIMITS.zsetMaxListpackValue), 1);
  assertEquals(long.encoding(), "listpack");
  long.set("b".repeat(ENCODING_LIMITS.zsetMaxListpackValue + 1), 1);
  assertEquals(long.encoding(), "skiplist");
});

Deno.test("ZsetValue: packed bytes round-trip; ranks, walks and counts match in both encodings", () => {
  const small = new ZsetValue();
  const big = new ZsetValue();
  const next = rng(11);
  for (let i = 0; i < 100; i++) {
    const member = `k${next(80)}\x00\xff`;
    const score = (next(20) - 10) / 4;
    small.set(member, score);
    big.set(member, score);
  }
  for (let i = 0; i < 200; i++) big.set(`zz${i}`, 1000 + i);
  for (let i = 0; i < 200; i++) big.delete(`zz${i}`);
  assertEquals(small.encoding(), "listpack");
  assertEquals(big.encoding(), "skiplist");
  const copy = ZsetValue.unpack(small.packed()!);
  assertEquals(copy.entries(), small.entries());
  assertEquals(big.entries(), small.entries());
  for (const [member] of small.entries()) assertEquals(big.rank(member), small.rank(member));
  assertEquals(
    big.countBefore((score) => score <= 0),
    small.countBefore((score) => score <= 0),
  );
  const tail = (z: ZsetValue) => {
    const out: string[] = [];
    z.walk(z.length - 3, true, (m) => {
      out.push(m);
      return true;
    });
    return out;
  };
  assertEquals(tail(big), tail(small));
});

Deno.test("ZsetValue: -0 is 0 in a listpack (as Redis's), kept in a skiplist", () => {
  const small = new ZsetValue();
  small.set("a", -0);
  assert(Object.is(small.score("a"), 0));
  const big = new ZsetValue();
  for (let i = 0; i < 200; i++) big.set(`m${i}`, i);
  big.set("a", -0);
  assert(Object.is(big.score("a"), -0));
});

Deno.test("ZsetValue: snapshot chunks and rebuild records reproduce it, in bounded pieces", () => {
  const big = new ZsetValue();
  for (let i = 0; i < 1000; i++) big.set(`member-${i}`, i % 13 === 0 ? Infinity : i / 7);
  for (let i = 0; i < 1000; i += 3) big.delete(`member-${i}`);
  const loaded = new ZsetValue();
  let chunks = 0;
  for (let from = 0; from >= 0;) {
    const { body, next } = big.snapshotChunk(from, 1024);
    assert(body.length < 1024 + 100, "a chunk stays near its bound");
    loaded.loadChunk(body);
    from = next;
    chunks++;
  }
  assert(chunks > 5);
  assertEquals(loaded.entries(), big.entries());
  const rebuilt = new ZsetValue();
  big.rebuildRecords((op, value, numeric) => {
    assertEquals(op, WalOp.ZsetAdd);
    assertEquals(numeric, 0);
    rebuilt.set(value.slice(8), decodeScore(value, 0));
  });
  assertEquals(rebuilt.entries(), big.entries());
  assertEquals(big.sortInput(), big.entries().map(([m]) => m));
  const clone = big.clone();
  clone.set("member-1", -1);
  assertEquals(big.score("member-1"), 1 / 7);
});

Deno.test("scores: Redis's parsing of score arguments and range bounds", () => {
  assertEquals(parseScore("1.5"), 1.5);
  assertEquals(parseScore("-inf"), -Infinity);
  assertEquals(parseScore("+Infinity"), Infinity);
  assertEquals(parseScore("0x10"), 16);
  assertEquals(parseScore(".5"), 0.5);
  assertEquals(parseScore("5."), 5);
  assert(parseScore("4e-320")! > 0);
  for (const bad of ["", " 1", "1 ", "x", "nan", "1e400", "1e-400", "1e", "--1", "(1"]) {
    assertEquals(parseScore(bad), undefined, bad);
  }
  assertEquals(parseScoreBound("(1"), { value: 1, exclusive: true });
  assertEquals(parseScoreBound(" 2"), { value: 2, exclusive: false });
  assertEquals(parseScoreBound(""), { value: 0, exclusive: false });
  assertEquals(parseScoreBound("("), { value: 0, exclusive: true });
  assertEquals(parseScoreBound("1e400"), { value: Infinity, exclusive: false });
  assertEquals(parseScoreBound("1\x00junk"), { value: 1, exclusive: false });
  for (const bad of ["x", "1 ", "((1", "nan", " "]) assertEquals(parseScoreBound(bad), undefined);
  assertEquals(parseLexBound("[a")?.value, "a");
  assertEquals(parseLexBound("(")?.exclusive, true);
  for (const bad of ["", "a", "+a", "-a"]) assertEquals(parseLexBound(bad), undefined);
  for (const score of [0, -0, 1.1, -Infinity, Infinity, 5e-324, Number.MAX_VALUE]) {
    assert(Object.is(decodeScore("xx" + encodeScore(score), 2), score));
  }
});

Deno.test("MemberIndex: 50k random adds and deletes (probe runs wrapping, shrinking) agree with a Map", () => {
  const members = new MemberArena();
  let positions = 0;
  const index = new MemberIndex(members);
  const model = new Map<string, number>();
  const free: number[] = [];
  const next = rng(3);
  for (let i = 0; i < 50_000; i++) {
    const member = `k${next(4000)}${i % 3 === 0 ? "\xff" : ""}`;
    const held = model.get(member);
    if (held === undefined && next(3) !== 0) {
      const slot = free.length > 0 ? free.pop()! : positions++;
      members.reserve(slot + 1);
      members.add(slot, member);
      index.add(member, slot);
      model.set(member, slot);
    } else if (held !== undefined) {
      assert.equal(index.delete(member), held);
      members.delete(held);
      free.push(held);
      model.delete(member);
    }
    if (i % 5000 === 0 || i > 49_900) {
      assert.equal(index.size, model.size);
      for (const [m, slot] of model) assert.equal(index.get(m), slot);
      assert.equal(index.get("absent"), undefined);
    }
  }
  // Emptied: the table shrinks and still answers.
  for (const [m, slot] of [...model]) {
    index.delete(m);
    members.delete(slot);
  }
  assert.equal(index.size, 0);
  assert.equal(index.get("k1"), undefined);
});

Deno.test("scores: digits with leading zeros (redis-benchmark's __rand_int__) and -0 read as strtod reads them", () => {
  assertEquals(parseScore("000000012345"), 12345);
  assertEquals(parseScore("-007"), -7);
  assert.ok(Object.is(parseScore("-0"), -0));
  assert.ok(Object.is(parseScore("-000"), -0));
  assertEquals(parseScoreBound("(0012"), { value: 12, exclusive: true });
});

Deno.test("MemberArena: 30k random adds and deletes (compactions, 2-byte lengths, string-held long members) agree with a model", () => {
  const arena = new MemberArena();
  const model = new Map<number, string>();
  const free: number[] = [];
  let positions = 0;
  const next = rng(5);
  const memberOf = (i: number) => {
    const kind = next(20);
    if (kind === 0) return "";
    if (kind === 1) return "L".repeat(100 + next(300)) + i; // two length bytes
    if (kind === 2 && i % 50 === 0) return "X".repeat(MAX_ARENA_MEMBER_BYTES + 1 + next(10)); // a string
    return `m\x00\xff${i}`;
  };
  let compactions = 0;
  for (let i = 0; i < 30_000; i++) {
    const used = arena.arenaBytes;
    if (model.size > 0 && next(2) === 0) {
      const slots = [...model.keys()];
      const slot = slots[next(slots.length)];
      arena.delete(slot);
      model.delete(slot);
      free.push(slot);
    } else {
      const slot = free.length > 0 ? free.pop()! : positions++;
      arena.reserve(slot + 1);
      const member = memberOf(i);
      arena.add(slot, member);
      model.set(slot, member);
    }
    if (arena.arenaBytes < used) compactions++;
    if (i % 3000 === 0 || i > 29_990) {
      for (const [slot, member] of model) {
        assertEquals(arena.get(slot), member);
        assertEquals(arena.lengthOf(slot), member.length);
        assert(arena.equals(slot, member));
        assert(!arena.equals(slot, member + "\x00"));
        assertEquals(arena.compare(slot, member), 0);
        assertEquals(Math.sign(arena.compare(slot, member + "\x00")), -1);
        assertEquals(Math.sign(arena.compare(slot, "m\x00\xfe")), member < "m\x00\xfe" ? -1 : 1);
      }
    }
  }
  assert(compactions > 0, "dead bytes were reclaimed (and the checks above ran after)");
});

Deno.test("RankTree: ascending and descending loads fill their leaves; equal scores sort by member bytes", () => {
  for (const descending of [false, true]) {
    const table = new ZsetTable();
    const n = 150_000;
    for (let i = 0; i < n; i++) table.set(`m${i}`, descending ? -i : i);
    table.tree.check();
    // Leaves split in half would take ~2x: 4 bytes a slot over full rows, and the rows' doubling.
    assert(table.tree.allocatedBytes <= n * 8, `${table.tree.allocatedBytes} bytes`);
  }
  const table = new ZsetTable();
  const model: [string, number][] = [];
  const next = rng(9);
  for (let i = 0; i < 2000; i++) {
    const member = ["", "\xff", "a\x00", "a", "ab"][i % 5] + next(1000);
    if (table.set(member, 0)) model.push([member, 0]);
  }
  table.set("", 0);
  model.push(["", 0]);
  table.tree.check();
  model.sort(byKey);
  const walked: string[] = [];
  table.walk(0, false, (m) => walked.push(m) > 0);
  assertEquals(walked, model.map(([m]) => m));
  assertEquals(table.rank(""), 0);
  assertEquals(table.countBefore((_, m) => m < "a"), model.filter(([m]) => m < "a").length);
});

Deno.test("ZsetValue (skiplist): the empty member, binary and string-held long members; free slots read as holes", () => {
  const zset = new ZsetValue();
  const long = "y".repeat(MAX_ARENA_MEMBER_BYTES + 5);
  for (let i = 0; i < 300; i++) zset.set(`k${i}`, i);
  zset.set("", -1);
  zset.set("\x00\xff\x80", 1.5);
  zset.set(long, 2.5);
  assertEquals(zset.encoding(), "skiplist");
  assertEquals(zset.score(""), -1);
  assertEquals(zset.rank(""), 0);
  assertEquals(zset.score(long), 2.5);
  assertEquals(zset.rank("\x00\xff\x80"), 3);
  zset.delete("k0");
  const members = new Set<string>();
  let holes = 0;
  for (let at = 0; at < zset.positions; at++) {
    const member = zset.memberAt(at);
    if (member === undefined) holes++;
    else members.add(member);
  }
  assertEquals(holes, 1);
  assertEquals(members.size, zset.length);
  assert(members.has("") && members.has(long) && members.has("\x00\xff\x80"));
  assert(zset.delete(long));
  assert(zset.delete(""));
  assertEquals(zset.score(long), undefined);
  assertEquals(zset.entries()[0], ["k1", 1]);
});

Deno.test("ZsetValue: a sorted set that outgrows its inline bytes is held as an object from then on", () => {
  const engine = new Engine(1);
  applyZsetScores(engine, "z", ["a"], [1]);
  const grow = Array.from(
    { length: ENCODING_LIMITS.zsetMaxListpackEntries + 1 },
    (_, i) => `m${i}`,
  );
  // Read back from the inline bytes (a copy), converted, stored once.
  applyZsetScores(engine, "z", grow, grow.map((_, i) => i));
  const held = engine.get("z") as ZsetValue;
  assertEquals(held.encoding(), "skiplist");
  // The fault: a converted copy still said "unpacked", so every later write
  // stored it again (a key lookup and a memory estimate each).
  assertEquals(held.unpacked, false);
  applyZsetScores(engine, "z", ["b"], [2]);
  applyZsetRems(engine, "z", ["a"]);
  assert(engine.get("z") === held);
  assertEquals(held.score("b"), 2);
  assertEquals(held.score("a"), undefined);
  assertEquals(held.length, grow.length + 1);
});

Deno.test("setAll equals set member by member: order, scores (-0 too), encoding, up to and past the listpack limits", () => {
  let seed = 11;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const saved = ENCODING_LIMITS.zsetMaxListpackEntries;
  try {
    for (let round = 0; round < 400; round++) {
      ENCODING_LIMITS.zsetMaxListpackEntries = [128, 5, 40][round % 3];
      const batched = new ZsetValue();
      const single = new ZsetValue();
      const member = () =>
        random(30) === 0 ? "y".repeat(ENCODING_LIMITS.zsetMaxListpackValue + 1) : `m${random(150)}`;
      const score = () => {
        const base = [-0, 0, 1, 2.5, -3, Infinity, -Infinity][random(7)];
        return random(2) === 0 ? base : base + random(3);
      };
      while (batched.encoding() === "listpack" && batched.length < 140) {
        const members = Array.from({ length: 1 + random(12) }, member);
        const scores = members.map(score);
        batched.setAll(members, scores);
        for (let i = 0; i < members.length; i++) single.set(members[i], scores[i]);
        assert.deepEqual(batched.entries(), single.entries());
        assert.equal(batched.length, single.length);
        assert.equal(batched.encoding(), single.encoding());
        assert.equal(batched.packed(), single.packed());
      }
    }
  } finally {
    ENCODING_LIMITS.zsetMaxListpackEntries = saved;
  }
});
