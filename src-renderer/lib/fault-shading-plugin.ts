import type { Chart, ChartType, Plugin } from 'chart.js';
import { shadeColour, type ShadeRect } from './chart-window';

/**
 * Shades fault periods on a chart's time axis, as Jepsen shades nemesis periods: a translucent
 * band per fault behind the lines, its label along the top, plus an optional marker line for a
 * time picked in the timeline. The bands come from RunView.faultPeriods via shadeRects; the
 * component sets them in `options.plugins.faultShading` before each update.
 */
export interface FaultShadingOptions {
  rects: ShadeRect[];
  /** Seconds; a vertical marker, or null. */
  highlight_s: number | null;
  labels: boolean;
}

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the parameter must match Chart.js's declaration
  interface PluginOptionsByType<TType extends ChartType> {
    faultShading?: Partial<FaultShadingOptions>;
  }
}

export const faultShadingPlugin: Plugin<'line', Partial<FaultShadingOptions>> = {
  id: 'faultShading',
  beforeDatasetsDraw(chart: Chart<'line'>, _args, options) {
    const x = chart.scales['x'];
    const area = chart.chartArea;
    if (x === undefined || area === undefined) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    for (const r of options.rects ?? []) {
      const left = x.getPixelForValue(r.x0);
      const right = Math.max(left + 2, x.getPixelForValue(r.x1));
      ctx.fillStyle = shadeColour(r.type);
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      ctx.fillStyle = shadeColour(r.type).replace(/0\.1\d\)$/, '0.7)');
      ctx.fillRect(left, area.top, 1.5, area.bottom - area.top);
      if (options.labels !== false && right - left > 36) {
        ctx.fillStyle = 'rgba(230, 237, 243, 0.75)';
        ctx.font = '10px system-ui, sans-serif';
        ctx.textBaseline = 'top';
        const text = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label;
        ctx.fillText(text, left + 4, area.top + 3, right - left - 8);
      }
    }
    if (options.highlight_s !== null && options.highlight_s !== undefined) {
      const px = x.getPixelForValue(options.highlight_s);
      ctx.strokeStyle = 'rgba(94, 234, 212, 0.9)';
      ctx.setLineDash([4, 3]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
    }
    ctx.restore();
  },
};
