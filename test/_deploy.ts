/**
 * Deploy a flow into a loaded node-red-node-test-helper runtime and wait until its flows started.
 *
 * The test helper's own `setFlows` gives the start 300 ms after the deploy returns and rejects with
 * "timeout waiting event" past that, which a loaded machine exceeds (seen at load average 10–16); this
 * listens before deploying and waits for the event itself (the test's timeout bounds it).
 */
interface TestHelper {
  _events: { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
  _redNodes: { setFlows(flow: unknown[], credentials: Record<string, unknown>, type: string): Promise<unknown> };
}

/** Deploy `flow` (`type`: 'full', 'nodes', 'flows') and resolve once its flows have started. */
export async function deployInto(helper: TestHelper, flow: unknown[], type: 'full' | 'nodes' | 'flows', credentials: Record<string, unknown> = {}): Promise<void> {
  let started!: () => void;
  const done = new Promise<void>((resolve) => (started = resolve));
  const on = (): void => started();
  helper._events.on('flows:started', on);
  try {
    await helper._redNodes.setFlows(flow, credentials, type);
    await done;
  } finally {
    helper._events.off('flows:started', on);
  }
}
