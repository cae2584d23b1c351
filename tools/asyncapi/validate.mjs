// Validate AsyncAPI documents with the official parser: `node validate.mjs FILE...`.
// Prints one JSON line per file: {"file", "errors": [...], "warnings": n}; exits 1 when
// any file has an error-level diagnostic (severity 0), 0 otherwise.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const text = await readFile(file, "utf8");
  const { diagnostics } = await parser.parse(text);
  const errors = diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => ({ code: d.code, message: d.message, path: d.path.join(".") }));
  const warnings = diagnostics.filter((d) => d.severity === 1).length;
  console.log(JSON.stringify({ file, errors, warnings }));
  if (errors.length) failed = true;
}
process.exit(failed ? 1 : 0);
