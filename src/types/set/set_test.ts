import assert from "node:assert/strict";
import { Engine } from "../../storage/engine.ts";
import { applyChange, EngineList } from "../../storage/store.ts";
import { entryProblem, WalOp } from "../../wal/record.ts";
import { encodeRecord, frameBytes } from "../../wal/encoder.ts";
import { decodeRecord, newDecodedRecord } from "../../wal/decoder.ts";
import { ENCODING_LIMITS } from "../encoding_limits.ts";
import { unpackCollection } from "../registry.ts";
import {
  applySetAdds,
  applySetRems,
  compareIntegers,
  isIntegerMember,
  SET_ADD_AS_HASHTABLE,
  SET_PACKED_MAX_MEMBER_BYTES,
  SET_PACKED_MAX_MEMBERS,
  SET_REM_REBUILD,
  SetValue,
  SNAPSHOT_TYPE_SET,
} from "./set.ts";
import { distinctRandomPositions } from "./_set_random.ts";

/** A seeded generator (xorshift): integers in [min, max]. */
class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed * 2654435761 >>> 0 || 1;
  }
  int(min: number, max: number): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return min + this.#state % (max - min + 1);
  }
}

function setOf(...members: string[]): SetValue {
  const set = new SetValue();
  for (const member of members) set.add(member);
  return set;
}

function sorted(set: SetValue): string[] {
  return set.members().sort();
}

Deno.test("an intset member is the exact text of a signed 64-bit integer (Redis's string2ll)", () => {
  for (
    const yes of ["0", "7", "-1", "10", "9223372036854775807", "-9223372036854775808", "1234"]
  ) {
    assert.equal(isIntegerMember(yes), true, yes);
  }
  for (
    const no of [
      "",
      "-",
      "-0",
      "01",
      "+1",
      " 1",
      "1 ",
      "1.0",
      "1e3",
      "0x10",
      "9223372036854775808",
      "-9223372036854775809",
      "99999999999999999999",
      "a",
    ]
  ) {
    assert.equal(isIntegerMember(no), false, no);
  }
  const numbers = ["-9223372036854775808", "-100", "-99", "-5", "0", "3", "20", "100"];
  for (let i = 0; i < numbers.length; i++) {
    for (let j = 0; j < numbers.length; j++) {
      assert.equal(Math.sign(compareIntegers(numbers[i], numbers[j])), Math.sign(i - j));
    }
  }
});

Deno.test("an intset answers in ascending order, becomes a hashtable past its limit or on a non-integer, and stays one", () => {
  const set = setOf("5", "-3", "100", "0", "5");
  assert.deepEqual(set.members(), ["-3", "0", "5", "100"]);
  assert.equal(set.encoding(), "intset");
  assert.equal(set.has("5"), true);
  assert.equal(set.has("05"), false);
  set.add("x");
  assert.equal(set.encoding(), "hashtable");
  set.delete("x");
  assert.equal(set.encoding(), "hashtable");
  assert.deepEqual(sorted(set), ["-3", "0", "100", "5"]);

  const limit = ENCODING_LIMITS.setMaxIntsetEntries;
  const big = new SetValue();
  for (let i = limit; i > 0; i--) big.add(String(i * 7 - 1000));
  assert.equal(big.encoding(), "intset");
  assert.equal(big.length, limit);
  const members = big.members();
  for (let i = 1; i < members.length; i++) {
    assert.ok(compareIntegers(members[i - 1], members[i]) < 0);
  }
  assert.equal(big.has(String(7 - 1000)), true);
  big.add("1000000");
  assert.equal(big.encoding(), "hashtable");
  assert.equal(big.length, limit + 1);
  assert.equal(big.has("1000000"), true);
});

Deno.test("set-max-intset-entries is read at each change, as CONFIG SET changes it", () => {
  const saved = ENCODING_LIMITS.setMaxIntsetEntries;
  try {
    ENCODING_LIMITS.setMaxIntsetEntries = 3;
    const set = setOf("1", "2", "3");
    assert.equal(set.encoding(), "intset");
    set.add("4");
    assert.equal(set.encoding(), "hashtable");
    ENCODING_LIMITS.setMaxIntsetEntries = 0;
    assert.equal(setOf("1").encoding(), "hashtable");
  } finally {
    ENCODING_LIMITS.setMaxIntsetEntries = saved;
  }
});

Deno.test("small sets are packed (inline); big or long-membered ones are not; unpack keeps the encoding", () => {
  const small = setOf("b", "a", "c");
  const packed = small.packed()!;
  assert.equal(typeof packed, "string");
  const back = unpackCollection(SNAPSHOT_TYPE_SET, packed) as SetValue;
  assert.deepEqual(back.members(), ["b", "a", "c"]);
  assert.equal(back.encoding(), "hashtable");
  assert.equal(back.unpacked, true);

  // A hashtable of integers (once held a non-integer) stays one through its bytes.
  const ints = setOf("1", "x", "2");
  ints.delete("x");
  const intsBack = SetValue.unpack(ints.packed()!);
  assert.equal(intsBack.encoding(), "hashtable");
  assert.equal(SetValue.unpack(setOf("2", "1").packed()!).encoding(), "intset");

  const many = new SetValue();
  for (let i = 0; i < SET_PACKED_MAX_MEMBERS; i++) many.add(`m${i}`);
  assert.notEqual(many.packed(), undefined);
  many.add("one more");
  assert.equal(many.packed(), undefined);
  assert.equal(many.length, SET_PACKED_MAX_MEMBERS + 1);

  const long = setOf("a");
  long.add("x".repeat(SET_PACKED_MAX_MEMBER_BYTES + 1));
  assert.equal(long.packed(), undefined);
  assert.equal(long.has("a"), true);
  assert.equal(long.encoding(), "hashtable");
});

Deno.test("a member table: random members are uniform-ish and a cursor walk sees every member present throughout", () => {
  const rng = new Rng(7);
  const set = new SetValue();
  for (let i = 0; i < 5000; i++) set.add(`m${i}`);
  const stay = new Set(set.members().filter((_, i) => i % 3 === 0));
  const seen = new Set<string>();
  let cursor = 0;
  let steps = 0;
  do {
    cursor = set.scan(cursor, 50, (member) => void seen.add(member));
    steps++;
    // Others come and go between steps.
    for (let k = 0; k < 20; k++) {
      const victim = `m${rng.int(0, 4999)}`;
      if (!stay.has(victim)) set.delete(victim);
      set.add(`n${rng.int(0, 100000)}`);
    }
  } while (cursor !== 0);
  for (const member of stay) assert.ok(seen.has(member), `${member} was visited`);
  assert.ok(steps > 50, "the walk took many steps");
  for (const member of set.members()) assert.equal(set.has(member), true);
  const counts = new Map<string, number>();
  const three = setOf("a", "b", "c");
  for (let i = 0; i < 3000; i++) {
    const member = three.randomMember();
    counts.set(member, (counts.get(member) ?? 0) + 1);
  }
  for (const n of counts.values()) assert.ok(n > 800, "each member is picked about a third");
});

Deno.test("a member table agrees with a JS Set through random adds and removes, growing and shrinking", () => {
  const rng = new Rng(11);
  const set = new SetValue();
  const model = new Set<string>();
  for (let round = 0; round < 4; round++) {
    // Grow to thousands, then drain to a few: the index doubles and halves.
    for (let i = 0; i < 20_000; i++) {
      const member = `k${rng.int(0, 6000)}`;
      const adding = rng.int(0, 2) > 0;
      if (adding) assert.equal(set.add(member), !model.has(member));
      else assert.equal(set.delete(member), model.has(member));
      if (adding) model.add(member);
      else model.delete(member);
    }
    for (const member of [...model]) {
      if (rng.int(0, 9) === 0) continue;
      assert.equal(set.delete(member), true);
      model.delete(member);
    }
    assert.equal(set.length, model.size);
    for (let i = 0; i <= 6000; i++) assert.equal(set.has(`k${i}`), model.has(`k${i}`), `k${i}`);
    assert.deepEqual(sorted(set), [...model].sort());
  }
});

Deno.test("distinct random positions are distinct and in range, in both strategies", () => {
  for (const [size, count] of [[10, 10], [10, 9], [1000, 3], [1000, 400], [1, 1]]) {
    const positions = distinctRandomPositions(size, count);
    assert.equal(positions.length, count);
    assert.equal(new Set(positions).size, count);
    for (const at of positions) assert.ok(at >= 0 && at < size);
  }
});

Deno.test("snapshot chunks of each storage go on where the last one stopped and hold every member once", () => {
  const saved = ENCODING_LIMITS.setMaxIntsetEntries;
  ENCODING_LIMITS.setMaxIntsetEntries = 100_000;
  try {
    for (const kind of ["packed", "sorted", "table"]) {
      const set = new SetValue();
      const n = kind === "packed" ? 50 : 20_000;
      for (let i = 0; i < n; i++) set.add(kind === "table" ? `member:${i}` : String(i * 2));
      const copy = new SetValue();
      let chunks = 0;
      let written = 0;
      for (let at = 0; at >= 0;) {
        const chunk = set.snapshotChunk(at, 2048);
        assert.ok(chunk.body.length < 2048 + 100, "a chunk is about the size asked");
        copy.loadChunk(chunk.body);
        written = copy.length;
        chunks++;
        at = chunk.next;
      }
      assert.equal(written, n, `${kind}: every member, once`);
      assert.deepEqual(sorted(copy), sorted(set), kind);
      assert.ok(n < 100 || chunks > 20, `${kind}: a big set takes many chunks`);
      assert.equal(copy.encoding(), set.encoding(), kind);
    }
  } finally {
    ENCODING_LIMITS.setMaxIntsetEntries = saved;
  }
});

Deno.test("a set changed between its snapshot chunks is refused, not written torn (snapshots write a value before it changes)", () => {
  for (const change of [(set: SetValue) => set.add("new"), (set: SetValue) => set.delete("m1")]) {
    const set = SetValue.of(Array.from({ length: 5000 }, (_, i) => `m${i}`), true);
    const first = set.snapshotChunk(0, 1024);
    assert.ok(first.next > 0);
    change(set);
    assert.throws(
      () => set.snapshotChunk(first.next, 1024),
      /unchanged between its snapshot chunks/,
    );
  }
  // A chunk asked out of turn is refused too.
  const set = SetValue.of(Array.from({ length: 5000 }, (_, i) => `m${i}`), true);
  const first = set.snapshotChunk(0, 1024);
  assert.throws(() => set.snapshotChunk(first.next - 1, 1024), /unchanged between/);
});

Deno.test("a clone is independent of its source and keeps its encoding", () => {
  for (const members of [["1", "2"], ["a", "b"], Array.from({ length: 600 }, (_, i) => `m${i}`)]) {
    const set = setOf(...members);
    const copy = set.clone();
    const extra = set.encoding() === "intset" ? "99" : "zz";
    copy.add(extra);
    copy.delete(members[0]);
    assert.equal(set.has(extra), false);
    assert.equal(set.has(members[0]), true);
    assert.equal(copy.encoding(), set.encoding());
  }
  const ints = setOf("1", "x");
  ints.delete("x");
  assert.equal(ints.clone().encoding(), "hashtable");
});

Deno.test("rebuild records replayed through applyChange give the same set and encoding; SetRem of the last member deletes the key", () => {
  const engine = new Engine(2);
  const list = new EngineList([engine]);
  let lsn = 0;
  const replay = (key: string, set: SetValue) => {
    applyChange(list, { lsn: ++lsn, op: WalOp.Set, db: 0, key, value: "a string", expiresAtMs: 0 });
    set.rebuildRecords((op, value, numeric) => {
      applyChange(list, { lsn: ++lsn, op, db: 0, key, value, expiresAtMs: numeric });
    });
    return engine.get(key) as SetValue;
  };
  const big = new SetValue();
  for (let i = 0; i < 700; i++) big.add(`m${i}`);
  const rebuilt = replay("s", big);
  assert.ok(rebuilt instanceof SetValue);
  assert.deepEqual(sorted(rebuilt), sorted(big));
  // A hashtable of integers stays a hashtable: its first record says so.
  const ints = setOf("3", "x", "1");
  ints.delete("x");
  const intsBack = replay("i", ints);
  assert.equal(intsBack.encoding(), "hashtable");
  assert.deepEqual(sorted(intsBack), ["1", "3"]);
  assert.equal(replay("j", setOf("3", "1")).encoding(), "intset");

  for (let i = 0; i < 699; i++) applySetRems(engine, "s", [`m${i}`], [0]);
  assert.equal((engine.get("s") as SetValue).length, 1);
  applySetRems(engine, "s", ["m699", "m699"], [0, 0]);
  assert.equal(engine.get("s"), undefined);
  applySetRems(engine, "s", ["m0"], [0]); // a missing key: nothing
  assert.equal(engine.get("s"), undefined);
  applySetAdds(engine, "small", ["a", "b"], [0, 0]);
  const small = engine.get("small") as SetValue;
  // Small: held inline as its packed bytes, read back as a fresh copy.
  assert.notEqual(engine.get("small"), small);
  small.add("c");
  assert.equal((engine.get("small") as SetValue).length, 2, "a copy's change is not stored");
  applySetAdds(engine, "flag", ["1"], [SET_ADD_AS_HASHTABLE]);
  assert.equal((engine.get("flag") as SetValue).encoding(), "hashtable");
});

Deno.test("a SetRem flagged REBUILD re-encodes what stays by its contents, as a new object", () => {
  const engine = new Engine(1);
  const members = ["a", "b", "c"];
  for (let i = 0; i < 300; i++) members.push(String(i));
  applySetAdds(engine, "s", members, members.map(() => 0));
  const before = engine.get("s") as SetValue;
  assert.equal(before.encoding(), "hashtable");
  const taken = ["a", "b", "c", ...members.slice(3, 250)];
  applySetRems(
    engine,
    "s",
    taken,
    taken.map((_, i) => i === taken.length - 1 ? SET_REM_REBUILD : 0),
  );
  const after = engine.get("s") as SetValue;
  assert.notEqual(after, before);
  assert.equal(after.encoding(), "intset");
  assert.deepEqual(after.members(), members.slice(250).sort((a, b) => Number(a) - Number(b)));
});

Deno.test("SetAdd and SetRem records round-trip through the codec; an unknown flag is refused", () => {
  const buf = new Uint8Array(frameBytes(1, 16) * 2);
  const out = newDecodedRecord();
  for (const [op, flag] of [[WalOp.SetAdd, 0], [WalOp.SetAdd, 1], [WalOp.SetRem, 1]]) {
    encodeRecord(buf, 0, 1, op, 3, "s", "member", flag, 0);
    assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0);
    assert.deepEqual([out.op, out.db, out.key, out.value, out.expiresAtMs], [
      op,
      3,
      "s",
      "member",
      flag,
    ]);
  }
  encodeRecord(buf, 0, 1, WalOp.SetRem, 0, "s", "", 0, 0);
  assert.ok(decodeRecord(buf, 0, buf.length, 0, out) > 0, "the empty member is a member");
  assert.throws(() => encodeRecord(buf, 0, 1, WalOp.SetAdd, 0, "s", "m", 2, 0), RangeError);
  assert.equal(entryProblem(WalOp.SetRem, "s", "m", 2), "SREM with flag 2");
});

Deno.test("a set that outgrows its inline bytes is held as an object from then on: later writes change it in place", () => {
  for (const prefix of ["m", ""]) { // a member table, and a sorted intset
    const engine = new Engine(1);
    applySetAdds(engine, "s", [`${prefix}1`], [0]);
    const grow = Array.from({ length: SET_PACKED_MAX_MEMBERS + 1 }, (_, i) => `${prefix}${i + 2}`);
    // Read back from the inline bytes (a copy), converted, stored once.
    applySetAdds(engine, "s", grow, grow.map(() => 0));
    const held = engine.get("s") as SetValue;
    assert.equal(held.packed(), undefined);
    // The fault: a converted copy still said "unpacked", so every later
    // write stored it again (a key lookup and a memory estimate each).
    assert.equal(held.unpacked, false);
    applySetAdds(engine, "s", [`${prefix}999`], [0]);
    applySetRems(engine, "s", [`${prefix}1`], [0]);
    assert.equal(engine.get("s"), held);
    assert.equal(held.has(`${prefix}999`), true);
    assert.equal(held.has(`${prefix}1`), false);
    assert.equal(held.length, SET_PACKED_MAX_MEMBERS + 2);
  }
});

Deno.test("addAll equals add member by member: members, order, encoding and form, across every conversion", () => {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const saved = ENCODING_LIMITS.setMaxIntsetEntries;
  try {
    for (let round = 0; round < 600; round++) {
      ENCODING_LIMITS.setMaxIntsetEntries = [512, 3, 0, 200][round % 4];
      const batched = new SetValue();
      const single = new SetValue();
      // Integers, short strings, a member too long to pack, now and then a hashtable flag.
      const member = () => {
        const kind = random(20);
        if (kind === 0) return "x".repeat(SET_PACKED_MAX_MEMBER_BYTES + 1);
        if (kind < 4 + (round % 3) * 6) return `m${random(300)}`;
        return String(random(400) - 200);
      };
      while (batched.length < SET_PACKED_MAX_MEMBERS + 20 && !batched.indexed) {
        const members = Array.from({ length: 1 + random(12) }, member);
        const flags = members.map(() => (random(40) === 0 ? SET_ADD_AS_HASHTABLE : 0));
        batched.addAll(members, flags);
        for (let i = 0; i < members.length; i++) {
          if (flags[i] === SET_ADD_AS_HASHTABLE) single.convertToHashtable();
          single.add(members[i]);
        }
        assert.deepEqual(batched.members(), single.members());
        assert.equal(batched.length, single.length);
        assert.equal(batched.encoding(), single.encoding());
        assert.equal(batched.packed(), single.packed());
        assert.equal(batched.indexed, single.indexed);
      }
    }
  } finally {
    ENCODING_LIMITS.setMaxIntsetEntries = saved;
  }
});
