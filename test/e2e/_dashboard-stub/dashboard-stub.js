/**
 * A stand-in for the Dashboard 2.0 node types the demo flow uses (@flowfuse/node-red-dashboard is
 * installed by `npm start` into its own user directory, not into the project), for the layout test
 * (../layout.test.ts): the widgets take their input and do nothing. Their editor side
 * (dashboard-stub.html) draws them as Dashboard 2.0 does: the same labels, ports and icons, so the
 * same sizes on the canvas.
 */
'use strict';
module.exports = function (RED) {
  function ConfigNode(config) {
    RED.nodes.createNode(this, config);
  }
  function Widget(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => done());
  }
  for (const type of ['ui-base', 'ui-theme', 'ui-page', 'ui-group']) RED.nodes.registerType(type, ConfigNode);
  for (const type of ['ui-chart', 'ui-table', 'ui-button', 'ui-text']) RED.nodes.registerType(type, Widget);
};
