// Runs bcrypt and the password strength rule inside worker threads (piscina), so neither a ~90 ms hash nor
// a ~60 ms strength check ever blocks the API's event loop.
// Plain JavaScript so the same file serves the compiled build and ts-jest.
"use strict";
const bcrypt = require("bcryptjs");
const { strengthProblem } = require("./password-policy");

module.exports = function run(task) {
  if (task.op === "hash") return bcrypt.hashSync(task.password, task.rounds);
  if (task.op === "strength") return strengthProblem(task.password, task.uids);
  return bcrypt.compareSync(task.password, task.hash);
};
