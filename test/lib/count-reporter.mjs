// A node:test reporter for test/run.mjs, used beside the spec reporter: one last line
// `RESULT passed=N failed=M`. Every test counts; describe blocks do not. A failure counts once: a test or
// block that failed because something inside it failed is not counted again, one that failed on its own
// (a hook threw, a file crashed) is. Skipped tests (e.g. filtered out by --test-name-pattern) count as neither.
export default async function* countReporter(source) {
  let passed = 0;
  let failed = 0;
  // failuresBelow[n]: a failure was counted deeper than nesting n since the last test at nesting n ended.
  const failuresBelow = [];
  for await (const { type, data } of source) {
    if (type !== "test:pass" && type !== "test:fail") continue;
    const skipped = Boolean(data.skip || data.todo);
    if (type === "test:fail" && !skipped && !failuresBelow[data.nesting]) {
      failed += 1;
      for (let level = 0; level < data.nesting; level++) failuresBelow[level] = true;
    } else if (type === "test:pass" && !skipped && data.details?.type !== "suite") {
      passed += 1;
    }
    failuresBelow[data.nesting] = false;
  }
  yield `RESULT passed=${passed} failed=${failed}\n`;
}
