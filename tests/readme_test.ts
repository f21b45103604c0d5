/** The README's config reference stays in step with the config table. */

import assert from "node:assert/strict";
import { CONFIG_KEYS } from "../src/config/config.ts";

Deno.test("README documents every config key with its default", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const key of CONFIG_KEYS) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${key.path}\` |`));
    assert.ok(row, `README has a row for ${key.path}`);
    assert.ok(
      row.includes(`| \`${key.defaultValue}\` |`),
      `README row for ${key.path} shows default ${key.defaultValue}`,
    );
  }
});
