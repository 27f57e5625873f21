/**
 * Messages that wait for their partition task's state: a store behind `kafka in` (nodes/nr/task-store.ts,
 * nodes/nr/sink-positions.ts) parks the messages of a task that is not restored yet and runs them, in
 * arrival order, once it is restored or dropped. Pure: no timers, no I/O.
 */
export class WaitingMessages {
  private readonly byTask = new Map<string, (() => void)[]>();

  /** Park `fn` (the handling of one message) until task `tp` is run. */
  add(tp: string, fn: () => void): void {
    let q = this.byTask.get(tp);
    if (q === undefined) this.byTask.set(tp, (q = []));
    q.push(fn);
  }

  /** Run (and forget) the messages of `tp`. */
  run(tp: string): void {
    const q = this.byTask.get(tp);
    this.byTask.delete(tp);
    if (q) for (const fn of q) fn();
  }

  /** Run (and forget) the messages of every task. */
  runAll(): void {
    for (const tp of [...this.byTask.keys()]) this.run(tp);
  }
}
