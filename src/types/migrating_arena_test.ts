import assert from "node:assert/strict";
import { seededRandom } from "../_seeded_random.ts";
import { MigratingArena, MIGRATION_STEP_SLOTS } from "./migrating_arena.ts";
import { BYTE_PAGE_BYTES } from "./paged_bytes.ts";

Deno.test("MigratingArena: offsets name their arena across migrations; moves keep the bytes", () => {
  const arenas = new MigratingArena(1024, 600);
  const write = (at: number, text: string) => {
    const page = arenas.page(at);
    for (let i = 0; i < text.length; i++) page[arenas.offsetInPage(at) + i] = text.charCodeAt(i);
  };
  const read = (at: number, length: number) =>
    String.fromCharCode(
      ...arenas.page(at).subarray(
        arenas.offsetInPage(at),
        arenas.offsetInPage(at) + length,
      ),
    );
  // Entries across pages, one long enough to be copied with `set`.
  const entries: { at: number; text: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = (i % 100 === 0 ? "L".repeat(500) : "e") + i;
    const at = arenas.alloc(text.length);
    write(at, text);
    entries.push({ at, text });
  }
  assert.ok(arenas.usedBytes > BYTE_PAGE_BYTES / 512);
  for (let round = 0; round < 3; round++) {
    arenas.beginMigration();
    assert.throws(() => arenas.beginMigration(), /one migration at a time/);
    // A new entry meanwhile lands in the new arena.
    const fresh = arenas.alloc(5);
    write(fresh, "fresh");
    assert.equal(arenas.isOld(fresh), false);
    for (const entry of entries) {
      assert.equal(arenas.isOld(entry.at), true);
      entry.at = arenas.move(entry.at, entry.text.length);
      assert.equal(arenas.isOld(entry.at), false);
    }
    arenas.free(fresh, 5);
    arenas.endMigration();
    assert.equal(arenas.migrating, false);
    for (const entry of entries) assert.equal(read(entry.at, entry.text.length), entry.text);
  }
  // Ending with a live entry left behind is refused.
  arenas.beginMigration();
  assert.throws(() => arenas.endMigration(), /nothing live in the old arena/);
});

Deno.test("MigratingArena: growth, migrations and their moves never take offsets past the limit", () => {
  // An owner of slots, as MemberArena is: a limit of 4 pages, entries up to 3000 bytes.
  const maxBytes = 4 * BYTE_PAGE_BYTES;
  const maxEntryBytes = 3000;
  const arenas = new MigratingArena(1024, maxEntryBytes);
  const offsets: number[] = [];
  const lengths: number[] = [];
  let refused = 0;
  let migrations = 0;
  const step = () => {
    const end = Math.min(arenas.cursor + MIGRATION_STEP_SLOTS, offsets.length);
    for (let slot = arenas.cursor; slot < end; slot++) {
      if (offsets[slot] >= 0 && arenas.isOld(offsets[slot])) {
        offsets[slot] = arenas.move(offsets[slot], lengths[slot]);
      }
    }
    arenas.cursor = end;
    if (end === offsets.length) arenas.endMigration();
  };
  const random = seededRandom(11);
  const next = (m: number) => (random() * m) | 0;
  for (let i = 0; i < 90_000; i++) {
    if (arenas.migrating) step();
    // Adds only for a while (the arena fills to its limit), then adds and deletes.
    if (i > 45_000 && next(3) !== 0 && offsets.length > 0) {
      const slot = next(offsets.length);
      if (offsets[slot] >= 0) {
        arenas.free(offsets[slot], lengths[slot]);
        offsets[slot] = -1;
      }
      continue;
    }
    const bytes = 1 + next(i % 100 === 0 ? maxEntryBytes : 200);
    const was = arenas.migrating;
    if (!arenas.makeRoom(bytes, maxBytes)) {
      refused++;
      continue;
    }
    if (!was && arenas.migrating) migrations++;
    offsets.push(arenas.alloc(bytes));
    lengths.push(bytes);
    assert.ok(arenas.current.usedBytes <= maxBytes, `${arenas.current.usedBytes} bytes used`);
  }
  assert.ok(refused > 0, "the limit was reached");
  assert.ok(migrations > 0, "dead bytes were reclaimed by migrations");
  assert.ok(arenas.usedBytes <= 2 * maxBytes);
});

Deno.test("MigratingArena: during a migration, room is left for the old arena's live entries", () => {
  const maxBytes = 4 * BYTE_PAGE_BYTES;
  const arenas = new MigratingArena(1024, 1000);
  const entries: number[] = [];
  while (arenas.makeRoom(1000, maxBytes)) entries.push(arenas.alloc(1000));
  assert.equal(arenas.migrating, false, "a full arena with no dead bytes takes no more");
  for (let i = 0; i < entries.length; i += 2) arenas.free(entries[i], 1000);
  // Half dead: the next allocation begins a migration; this owner never steps it.
  let added = 0;
  while (arenas.makeRoom(1000, maxBytes)) {
    arenas.alloc(1000);
    added++;
  }
  assert.equal(arenas.migrating, true);
  const oldLive = Math.floor(entries.length / 2) * 1000;
  assert.ok(added > 0);
  assert.ok(
    arenas.current.usedBytes + oldLive <= maxBytes,
    `${arenas.current.usedBytes} new and ${oldLive} old live bytes in ${maxBytes}`,
  );
  // The old live entries then move in within the limit.
  for (let i = 1; i < entries.length; i += 2) entries[i] = arenas.move(entries[i], 1000);
  arenas.endMigration();
  assert.ok(arenas.current.usedBytes <= maxBytes);
});
