/*
 * Browser side of dashboard.test.ts, loaded into the dashboard page before its own scripts
 * (page.addInitScript): reads what Dashboard 2.0's charts have drawn on their canvas.
 *
 * `window.Cypress` is Dashboard 2.0's own test hook: when it is set, every ui-chart registers its Vue
 * component as window.uiCharts[<node id>], whose `chart` is the ECharts instance. The texts a chart
 * draws are in its zrender display list, each with the canvas font, alignment, anchor point and
 * transform it is drawn with; the ink box of a text is measured here with the canvas' own
 * measureText, not with ECharts' estimate of a text's height (which comes from the width of a CJK
 * glyph, and is 4 px instead of 12 where the machine has no CJK font, as Debian's default install).
 */
'use strict';
window.Cypress = window.Cypress || {};
window.smokeDashboardProbe = {
  /** The chart of ui-chart node `id`, or null before it is mounted. */
  chart(id) {
    const component = window.uiCharts && window.uiCharts[id];
    if (!component || !component.chart) return null;
    const chart = component.chart;
    const width = chart.getWidth();
    const height = chart.getHeight();
    const measure = document.createElement('canvas').getContext('2d');
    const texts = [];
    for (const el of chart.getZr().storage.getDisplayList(true)) {
      const s = el.style;
      if (!s || typeof s.text !== 'string' || s.text === '' || el.invisible) continue;
      measure.font = s.font;
      measure.textAlign = s.textAlign || 'left';
      measure.textBaseline = s.textBaseline || 'alphabetic';
      const m = measure.measureText(s.text);
      const x = s.x || 0;
      const y = s.y || 0;
      const corners = [
        [x - m.actualBoundingBoxLeft, y - m.actualBoundingBoxAscent],
        [x + m.actualBoundingBoxRight, y - m.actualBoundingBoxAscent],
        [x - m.actualBoundingBoxLeft, y + m.actualBoundingBoxDescent],
        [x + m.actualBoundingBoxRight, y + m.actualBoundingBoxDescent],
      ];
      const t = el.getComputedTransform() || [1, 0, 0, 1, 0, 0];
      const xs = corners.map((c) => t[0] * c[0] + t[2] * c[1] + t[4]);
      const ys = corners.map((c) => t[1] * c[0] + t[3] * c[1] + t[5]);
      texts.push({ text: s.text, left: Math.min(...xs), right: Math.max(...xs), top: Math.min(...ys), bottom: Math.max(...ys) });
    }
    // Anything drawn on the canvas' last row of pixels is cut off by its bottom edge.
    const canvas = chart.getDom().querySelector('canvas');
    const row = canvas.getContext('2d').getImageData(0, canvas.height - 1, canvas.width, 1).data;
    let bottomRowInk = 0;
    for (let i = 3; i < row.length; i += 4) if (row[i] > 0) bottomRowInk++;
    const box = canvas.getBoundingClientRect();
    return { width, height, texts, bottomRowInk, box: { left: box.left, top: box.top, right: box.right, bottom: box.bottom } };
  },
};
