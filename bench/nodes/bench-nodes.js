// Bench-only Node-RED node types, loaded by the bench through settings.nodesDir (never shipped).
//   bench-source: no input; the bench drives it from outside with node.send() (an in-process source
//                 at full speed, instead of a Kafka consumer).
//   bench-pass:   the minimal pass-through (msg, send, done) => { send(msg); done() }: the runtime
//                 ceiling is a chain of these.
//   bench-tap:    counts the records going past (a batch counts its array length), tells the bench,
//                 and passes the same msg on.
// The bench and these nodes share one process; they meet on globalThis.__smokeBench.
'use strict';

module.exports = function (RED) {
  const bench = globalThis.__smokeBench || (globalThis.__smokeBench = { sources: new Map(), taps: new Map(), listeners: new Map() });

  function BenchSource(config) {
    RED.nodes.createNode(this, config);
    bench.sources.set(config.name, this);
    this.on('close', () => {
      if (bench.sources.get(config.name) === this) bench.sources.delete(config.name);
    });
  }
  RED.nodes.registerType('bench-source', BenchSource);

  function BenchPass(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => {
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-pass', BenchPass);

  function BenchTap(config) {
    RED.nodes.createNode(this, config);
    const name = config.name;
    const state = { records: 0, messages: 0, first: 0, last: 0 };
    bench.taps.set(name, state);
    this.on('input', (msg, send, done) => {
      const n = Array.isArray(msg.payload) ? msg.payload.length : 1;
      const now = performance.now();
      if (state.messages === 0) state.first = now;
      state.last = now;
      state.messages++;
      state.records += n;
      const l = bench.listeners.get(name);
      if (l) l(n, msg, now);
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('bench-tap', BenchTap);
};
