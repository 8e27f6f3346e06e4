// Validate .glb files with the Khronos glTF validator (npm gltf-validator).
// Usage: NODE_PATH=web/node_modules node gltf_validate.cjs FILE...
// Prints one JSON array: per file its path, error/warning counts and the first messages.
"use strict";
const fs = require("fs");
const validator = require("gltf-validator");

async function one(path) {
  const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(path)), {
    uri: path,
    maxIssues: 200,
  });
  const issues = report.issues;
  return {
    path,
    errors: issues.numErrors,
    warnings: issues.numWarnings,
    infos: issues.numInfos,
    messages: issues.messages.filter((m) => m.severity <= 1).slice(0, 20).map((m) => `${m.severity} ${m.code} ${m.pointer || ""} ${m.message}`),
  };
}

(async () => {
  const out = [];
  for (const path of process.argv.slice(2)) out.push(await one(path));
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
