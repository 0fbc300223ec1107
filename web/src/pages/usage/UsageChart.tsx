/**
 * The daily chart: a thin wrapper over uPlot (canvas, no dependencies). uPlot owns its DOM
 * node; React only creates it, hands it new data, resizes it with its box and destroys it.
 * Clicking a day's bars picks that day. The chart is an image to assistive technology, with a
 * summary as its label; the same numbers are in the table beside it.
 */
import { useEffect, useMemo, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { DailySeries } from './usage-view';

const HEIGHT = 240;

const bars = uPlot.paths.bars!;

function options(width: number, onPickDay: (index: number) => void): Options {
  return {
    width,
    height: HEIGHT,
    // The period is whole UTC days; uPlot shows times in the browser's zone unless told.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { values: '{D}', space: 24 },
      { label: 'Minutes', values: (_u, ticks) => ticks.map((t) => t.toLocaleString('en-US')), size: 60 },
    ],
    legend: { show: true },
    cursor: { points: { show: false } },
    series: [
      { label: 'Day', value: '{YYYY}-{MM}-{DD}' },
      {
        label: 'Meeting minutes',
        stroke: '#1d4ed8',
        fill: '#1d4ed8',
        paths: bars({ size: [0.4, 24], align: -1 }),
        points: { show: false },
        value: (_u, v) => (v === null ? '—' : v.toFixed(1)),
      },
      {
        label: 'Participant minutes',
        stroke: '#0f766e',
        fill: '#5eead4',
        paths: bars({ size: [0.4, 24], align: 1 }),
        points: { show: false },
        value: (_u, v) => (v === null ? '—' : v.toFixed(1)),
      },
    ],
    hooks: {
      ready: [
        (u) => {
          u.over.addEventListener('click', () => {
            const idx = u.cursor.idx;
            if (idx !== null && idx !== undefined) onPickDay(idx);
          });
        },
      ],
    },
  };
}

export function UsageChart({
  series,
  summary,
  onPickDay,
}: {
  series: DailySeries;
  summary: string;
  onPickDay: (day: string) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // The click handler is installed once per chart; it reads the newest days and callback.
  const latest = useRef({ days: series.days, onPickDay });
  useEffect(() => {
    latest.current = { days: series.days, onPickDay };
  });

  // A day without usage draws no bar (null), rather than a flat one on the axis.
  const data = useMemo<AlignedData>(() => {
    const bars = (values: number[]) => values.map((v) => (v === 0 ? null : v));
    return [series.x, bars(series.minutes.meeting_minutes), bars(series.minutes.participant_minutes)];
  }, [series]);
  const first = useRef(data);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const pick = (i: number) => {
      const day = latest.current.days[i];
      if (day) latest.current.onPickDay(day);
    };
    const u = new uPlot(options(Math.max(280, el.clientWidth), pick), first.current, el);
    chart.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={box} className="usage-chart" role="img" aria-label={summary} data-testid="usage-chart" />;
}
