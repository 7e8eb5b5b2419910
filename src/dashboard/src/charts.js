// The dashboard's three charts, drawn with Chart.js (registered piece by piece so the bundle carries
// only what is used).
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

const COLORS = { answered: '#2f9e44', missed: '#e03131', rate: '#1c7ed6', billsec: '#7048e8', avg: '#f08c00' };

/** @typedef {{ key: string, calls: number, answered: number, missed: number, answer_rate: number, total_billsec: number, avg_billsec: number | null, avg_ring_seconds: number | null }} StatsRow */

/**
 * Short labels for the time buckets the stats API returns (`2026-11-21`, `2026-11-21T14:00:00+07:00`).
 * @param {string} key
 * @param {'hour' | 'day'} bucket
 */
export function bucketLabel(key, bucket) {
  return bucket === 'hour' ? `${key.slice(5, 10)} ${key.slice(11, 16)}` : key.slice(5, 10);
}

export class DashboardCharts {
  /** @param {{ volume: HTMLCanvasElement, rate: HTMLCanvasElement, agents: HTMLCanvasElement }} canvases */
  constructor(canvases) {
    const common = { responsive: true, maintainAspectRatio: false, animation: /** @type {const} */ (false) };
    this.volume = new Chart(canvases.volume, {
      type: 'bar',
      data: { labels: [], datasets: [
        { label: 'Answered', data: [], backgroundColor: COLORS.answered, stack: 'calls' },
        { label: 'Missed', data: [], backgroundColor: COLORS.missed, stack: 'calls' },
      ] },
      options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    this.rate = new Chart(canvases.rate, {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'Answer rate %', data: [], borderColor: COLORS.rate, backgroundColor: COLORS.rate, tension: 0.2 }] },
      options: { ...common, scales: { y: { beginAtZero: true, max: 100 } } },
    });
    this.agents = new Chart(canvases.agents, {
      type: 'bar',
      data: { labels: [], datasets: [
        { label: 'Total billsec', data: [], backgroundColor: COLORS.billsec },
        { label: 'Average billsec', data: [], backgroundColor: COLORS.avg },
      ] },
      options: { ...common, indexAxis: 'y', scales: { x: { beginAtZero: true } } },
    });
  }

  /**
   * @param {StatsRow[]} timeRows
   * @param {'hour' | 'day'} bucket
   * @param {StatsRow[]} agentRows
   */
  update(timeRows, bucket, agentRows) {
    const labels = timeRows.map((row) => bucketLabel(row.key, bucket));
    this.volume.data.labels = labels;
    this.volume.data.datasets[0].data = timeRows.map((row) => row.answered);
    this.volume.data.datasets[1].data = timeRows.map((row) => row.missed);
    this.rate.data.labels = labels;
    this.rate.data.datasets[0].data = timeRows.map((row) => Math.round(row.answer_rate * 1000) / 10);
    this.agents.data.labels = agentRows.map((row) => row.key);
    this.agents.data.datasets[0].data = agentRows.map((row) => row.total_billsec);
    this.agents.data.datasets[1].data = agentRows.map((row) => row.avg_billsec ?? 0);
    for (const chart of [this.volume, this.rate, this.agents]) chart.update();
  }
}
