import assert from "node:assert/strict";
import { packFields, unpackFields } from "./_stream_codec.ts";
import { StreamValue } from "./stream.ts";
import { StreamGroup } from "./stream_group.ts";
import { formatId, makeId, MAX_ID, MIN_ID, nextId, parseId, previousId } from "./stream_id.ts";

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
    s.append(makeId(i, 0), parts, packFields(parts, 0), s.needsNewNode(parts));
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
    s.append(makeId(i, 0), parts, packFields(parts, 0), s.needsNewNode(parts));
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
