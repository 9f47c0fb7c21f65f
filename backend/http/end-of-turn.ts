// Answers are written when the event loop's turn ends, back to back with the other answers that turn
// produced, instead of one at a time between requests. Why: on a busy server each write wakes the client's
// side of the connection (another thread, often another CPU); written in one burst, one wake-up serves the
// whole burst. It costs one shared setImmediate per turn and delays no answer past the end of its turn.
import type Koa from "koa";

let turn: Promise<void> | null = null;

function endOfTurn(): Promise<void> {
  turn ??= new Promise((resolve) => setImmediate(() => ((turn = null), resolve())));
  return turn;
}

export function writeAtEndOfTurn(_ctx: Koa.Context, next: Koa.Next): Promise<void> {
  return next().then(endOfTurn);
}
