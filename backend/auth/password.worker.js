// Runs bcrypt inside a worker thread (piscina) so a ~90 ms hash never blocks the API's event loop.
// Plain JavaScript so the same file serves the compiled build and ts-jest.
"use strict";
const bcrypt = require("bcryptjs");

module.exports = function run(task) {
  if (task.op === "hash") return bcrypt.hashSync(task.password, task.rounds);
  return bcrypt.compareSync(task.password, task.hash);
};
