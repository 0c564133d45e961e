import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { formatClock } from './scrubber-math';
import { faultShadingPlugin } from './fault-shading-plugin';

/** Registers only what the dashboard's line charts use (keeps the bundle small). */
let registered = false;
export function registerCharts(): void {
  if (registered) return;
  Chart.register(
    LineController,
    LineElement,
    PointElement,
    LinearScale,
    Legend,
    Tooltip,
    faultShadingPlugin,
  );
  Chart.defaults.color = '#8b949e';
  Chart.defaults.borderColor = 'rgba(139, 148, 158, 0.15)';
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  Chart.defaults.font.size = 11;
  registered = true;
}

const MAX_LEGEND_ENTRIES = 10;

/** Series colours: distinguishable on the dark theme, the first three reserved for p50/p95/p99. */
export const SERIES_COLOURS = [
  '#5eead4',
  '#fbbf24',
  '#f97066',
  '#60a5fa',
  '#c084fc',
  '#a3e635',
  '#fb923c',
  '#f472b6',
  '#94a3b8',
];

export function lineChartConfig(
  unit: string,
): ChartConfiguration<'line', { x: number; y: number }[]> {
  return {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0, hoverRadius: 3 }, line: { borderWidth: 1.6, tension: 0.25 } },
      scales: {
        x: {
          type: 'linear',
          ticks: {
            maxTicksLimit: 7,
            callback: (v) => formatClock(Number(v) * 1000).replace(/\.\d$/, ''),
          },
          grid: { color: 'rgba(139, 148, 158, 0.08)' },
        },
        y: {
          beginAtZero: true,
          ticks: {
            maxTicksLimit: 5,
            callback: (v) => `${compact(Number(v))}${unit ? ` ${unit}` : ''}`,
          },
          grid: { color: 'rgba(139, 148, 158, 0.1)' },
        },
      },
      plugins: {
        legend: {
          display: true,
          position: 'top',
          align: 'end',
          labels: {
            boxWidth: 10,
            boxHeight: 2,
            padding: 8,
            color: '#c9d1d9',
            // A 50-node run would bury the plot under its legend; the first few name the colours.
            filter: (item) => (item.datasetIndex ?? 0) < MAX_LEGEND_ENTRIES,
          },
        },
        tooltip: {
          callbacks: {
            title: (items) => (items[0] ? formatClock(items[0].parsed.x! * 1000) : ''),
            label: (item) =>
              `${item.dataset.label ?? ''}: ${compact(item.parsed.y ?? 0)}${unit ? ` ${unit}` : ''}`,
          },
        },
        faultShading: { rects: [], highlight_s: null, labels: true },
      },
    },
  };
}

/** 1234 → "1.2k": axis labels stay short so the plot keeps its width. */
export function compact(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${Math.round(v / 1e3)}k`;
  if (abs >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (abs >= 10 || abs === 0) return String(Math.round(v));
  return v.toFixed(1);
}
