import assert from "node:assert/strict";
import { unpackFields } from "./_stream_codec.ts";
import { StreamValue } from "./stream.ts";
import { StreamGroup } from "./stream_group.ts";
import {
  formatId,
  makeBigId,
  makeId,
  MAX_ID,
  MIN_ID,
  nextId,
  parseId,
  previousId,
} from "./stream_id.ts";

Deno.test("stream IDs: 64-bit halves parsed as Redis's strtoull, ordered as strings, formatted back", () => {
  assert.equal(
    formatId(parseId("18446744073709551615-18446744073709551615", 0n, true).id),
    "18446744073709551615-18446744073709551615",
  );
  assert.equal(parseId("+", 0n, false).id, MAX_ID);
  assert.equal(formatId(parseId(" 7", 0n, true).id), "7-0");
  assert.equal(formatId(parseId("+7-+1", 0n, true).id), "7-1");
  assert.equal(formatId(parseId("5- 3", 0n, true).id), "5-3");
  assert.throws(() => parseId(" -1", 0n, true)); // split at its dash, as Redis does
  assert.throws(() => parseId("-1", 0n, true));
  assert.throws(() => parseId("18446744073709551616", 0n, true));
  assert.throws(() => parseId("-", 0n, true));
  assert.ok(makeId(2, 0) > makeId(1, 2 ** 40));
  assert.equal(formatId(nextId(parseId("1-18446744073709551615", 0n, true).id)!), "2-0");
  assert.equal(formatId(previousId(makeId(2, 0))!), "1-18446744073709551615");
  assert.equal(nextId(MAX_ID), undefined);
  assert.equal(previousId(MIN_ID), undefined);
});

Deno.test("a stream value: ranges, tombstones and trims keep its counts", () => {
  const s = new StreamValue();
  for (let i = 1; i <= 250; i++) {
    const parts = ["f", String(i)];
    s.append(makeId(i, 0), parts, s.needsNewNode(parts));
  }
  assert.equal(s.nodes.length, 3); // 100 entries a node, as Redis's default
  assert.ok(s.delete(makeId(5, 0)));
  assert.ok(!s.delete(makeId(5, 0)));
  assert.equal(s.length, 249);
  assert.equal(s.storedEntries, 250);
  const seen: number[] = [];
  s.range(makeId(3, 0), makeId(7, 0), true, (_id, fields) => {
    seen.push(Number(unpackFields(fields)[1]));
    return true;
  });
  assert.deepEqual(seen, [7, 6, 4, 3]);
  assert.equal(s.trim(120, MIN_ID, true, 0), 99); // the first node only, whole
  assert.equal(s.storedEntries, 150);
  assert.equal(s.trim(120, MIN_ID, false, 0), 30); // tombstones in the next node
  assert.equal(s.length, 120);
  assert.equal(s.storedEntries, 150);
  assert.equal(s.clone().length, 120);
});

Deno.test("snapshot chunks: a big group's consumers and pending entries come in bounded slices and load back whole", () => {
  const s = new StreamValue();
  for (let i = 1; i <= 6000; i++) {
    const parts = ["f", String(i)];
    s.append(makeId(i, 0), parts, s.needsNewNode(parts));
  }
  s.delete(makeId(10, 0));
  const group = new StreamGroup(makeId(2500, 0), 2500);
  for (let i = 1; i <= 6000; i++) group.setPending(makeId(i, 0), `c${i % 1200}`, 1000 + i, i % 4);
  s.groups.set("g", group);
  s.groups.set("empty", new StreamGroup(MIN_ID, -1));
  const copy = new StreamValue();
  let at = 0;
  let chunks = 0;
  do {
    const { body, next } = s.snapshotChunk(at, 64 * 1024);
    assert.ok(body.length < 200 * 1024, `chunk ${chunks} of ${body.length} bytes`);
    copy.loadChunk(body);
    at = next;
    chunks++;
  } while (at >= 0);
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.equal(copy.length, s.length);
  assert.equal(copy.storedEntries, s.storedEntries);
  assert.deepEqual([...copy.groups.keys()].sort(), ["empty", "g"]);
  const back = copy.groups.get("g")!;
  assert.equal(back.consumers.size, 1200);
  assert.equal(back.pending.size, 6000);
  assert.deepEqual(back.entries.get(makeId(7, 0)), group.entries.get(makeId(7, 0)));
  assert.equal(back.consumers.get("c7")!.pending.size, group.consumers.get("c7")!.pending.size);
  assert.equal(back.lastId, group.lastId);
  assert.equal(back.entriesRead, 2500);
});

/** The memory estimate summed node by node, as it was before the sum was kept. */
function walkedMemoryBytes(s: StreamValue): number {
  let bytes = 64;
  for (const node of s.nodes) bytes += node.memoryBytes();
  for (const group of s.groups.values()) bytes += 128 + group.entries.size * 96;
  return bytes;
}

/** Every live entry as `ms:fields` (its pairs unpacked and joined). */
function entries(s: StreamValue): string[] {
  const out: string[] = [];
  s.range(MIN_ID, MAX_ID, false, (id, fields, n) => {
    const parts = unpackFields(fields);
    assert.equal(parts.length, n * 2);
    out.push(`${formatId(id)}:${parts.join(",")}`);
    return true;
  });
  return out;
}

Deno.test("a stream's kept memory sum matches a walk of its nodes through appends, deletes, trims, copies and loads", () => {
  const s = new StreamValue();
  const check = (step: string) => assert.equal(s.memoryBytes(), walkedMemoryBytes(s), step);
  for (let i = 1; i <= 1000; i++) {
    const parts = i % 7 === 0 ? ["other", "x".repeat(i % 300)] : ["f", String(i)];
    s.append(makeId(i, i % 3), parts, s.needsNewNode(parts));
  }
  check("appends");
  for (let i = 1; i <= 1000; i += 3) s.delete(makeId(i, i % 3));
  check("deletes");
  // Every entry of one node: the node goes.
  const first = s.nodes[1];
  for (let i = 0; i < first.size; i++) if (!first.isDead(i)) s.delete(first.idAt(i));
  check("a node emptied");
  s.trim(500, MIN_ID, true, 0);
  check("approximate trim");
  s.trim(300, MIN_ID, false, 0);
  check("exact trim");
  s.trim(-1, makeId(800, 0), false, 0);
  check("exact MINID trim");
  s.groups.set("g", new StreamGroup(MIN_ID, 0));
  s.groups.get("g")!.setPending(makeId(900, 0), "c", 1, 1);
  check("a group");
  assert.equal(s.clone().memoryBytes(), s.memoryBytes());
  const loaded = new StreamValue();
  let at = 0;
  do {
    const { body, next } = s.snapshotChunk(at, 4096);
    loaded.loadChunk(body);
    at = next;
  } while (at >= 0);
  assert.equal(loaded.memoryBytes(), walkedMemoryBytes(loaded));
  assert.deepEqual(entries(loaded), entries(s));
});

Deno.test("nodes' buffers handed back by trims and deletes are reused without touching the nodes kept", () => {
  const s = new StreamValue();
  const kept = new StreamValue();
  for (let i = 1; i <= 5000; i++) {
    // Entries of varying sizes (one past the kept-buffer bound): nodes of varying buffer sizes.
    const value = i % 997 === 0 ? "v".repeat(70_000) : "v".repeat(i % 50);
    const parts = ["f", value, "n", String(i)];
    s.append(makeId(i, 0), parts, s.needsNewNode(parts));
    kept.append(makeId(i, 0), parts, kept.needsNewNode(parts));
    if (i % 3 === 0) {
      s.delete(makeId(i - 1, 0));
      kept.delete(makeId(i - 1, 0));
    }
    s.trim(700, MIN_ID, true, 0);
  }
  const all = entries(kept);
  assert.deepEqual(entries(s), all.slice(all.length - s.length));
  assert.ok(s.length >= 700 && s.length < 800, `${s.length}`);
  const copy = s.clone();
  s.trim(0, MIN_ID, false, 0);
  for (let i = 5001; i <= 5400; i++) s.append(makeId(i, 0), ["f", "w"], s.needsNewNode(["f", "w"]));
  assert.deepEqual(entries(copy), all.slice(all.length - copy.length));
});

Deno.test("an exact MINID trim may tombstone a whole node: the first and last entries are still found", () => {
  const s = new StreamValue();
  for (let i = 1; i <= 150; i++) s.append(makeId(i, 0), ["f", "v"], s.needsNewNode(["f", "v"]));
  // The first node: 1..100. Its last entry deleted, then everything below 100-0 trimmed.
  s.delete(makeId(100, 0));
  assert.equal(s.trim(-1, makeId(100, 0), false, 0), 99);
  assert.equal(s.nodes.length, 2);
  assert.equal(s.nodes[0].live, 0);
  assert.equal(formatId(s.edgeId(false)!), "101-0");
  assert.equal(formatId(s.edgeId(true)!), "150-0");
  for (let i = 101; i <= 150; i++) s.delete(makeId(i, 0));
  assert.equal(s.edgeId(false), undefined);
  assert.equal(s.edgeId(true), undefined);
});

Deno.test("a stream value: entries appended from numbers equal those appended by ID string", () => {
  const byId = new StreamValue();
  const byNumbers = new StreamValue();
  // Milliseconds past 2^32 and sequences past 2^32: both halves' high words used.
  const ids: [number, number][] = [[1, 0], [2 ** 32 + 5, 0], [2 ** 32 + 5, 2 ** 32 + 1]];
  for (let ms = 1_700_000_000_000; ms < 1_700_000_000_000 + 300; ms++) ids.push([ms, ms % 3]);
  for (const [ms, seq] of ids) {
    const parts = ms % 7 === 0 ? ["other", "x", "y", "z"] : ["f", String(ms)];
    byId.append(makeId(ms, seq), parts, byId.needsNewNode(parts));
    byNumbers.appendNew(ms, seq, parts, byNumbers.needsNewNode(parts));
    assert.equal(byNumbers.lastMs, ms);
    assert.equal(byNumbers.lastSeq, seq);
  }
  assert.equal(byNumbers.lastId, byId.lastId);
  assert.equal(formatId(byNumbers.lastId), `1700000000299-${1700000000299 % 3}`);
  assert.equal(byNumbers.length, byId.length);
  assert.equal(byNumbers.nodes.length, byId.nodes.length);
  assert.equal(byNumbers.memoryBytes(), byId.memoryBytes());
  const entries = (s: StreamValue) => {
    const out: string[] = [];
    s.range(MIN_ID, MAX_ID, false, (id, fields, count) => {
      out.push(`${formatId(id)} ${count} ${unpackFields(fields).join(",")}`);
      return true;
    });
    return out;
  };
  assert.deepEqual(entries(byNumbers), entries(byId));
  assert.equal(entries(byId).length, ids.length);
});

Deno.test("a stream value: a node's listpack size after a master ID past 2^53, from numbers", () => {
  // The expected sizes are those of a1050c2, which appended every entry by its ID string.
  const s = new StreamValue();
  s.append(makeBigId(5n, 2n ** 60n), ["f", "v"], true);
  s.appendNew(6, 0, ["f", "v"], false);
  s.appendNew(6, 1, ["f", "w", "g", "x"], false);
  s.appendNew(2 ** 40, 7, ["f", "v"], false);
  assert.equal(s.nodes.length, 1);
  assert.equal(s.nodes[0].entryBytes, 87);
  assert.equal(s.nodes[0].bytes(), 105);
  assert.equal(s.memoryBytes(), 393);
  assert.equal(formatId(s.lastId), `${2 ** 40}-7`);
  assert.throws(() => s.appendNew(2 ** 40, 7, ["f", "v"], false), /above the last/);
});
