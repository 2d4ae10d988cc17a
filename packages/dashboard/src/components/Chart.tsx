import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A uPlot line chart over time; `data[0]` holds unix seconds, each further array one series. */
export function Chart({ title, series, data }: { title: string; series: string[]; data: number[][] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  // The chart is rebuilt only when its series change; new data goes through setData below.
  const seriesKey = series.join('\u0000');
  useEffect(() => {
    if (!box.current) return;
    const colours = ['#2563eb', '#16a34a', '#dc2626', '#d97706'];
    plot.current = new uPlot(
      {
        width: Math.min(box.current.clientWidth || 600, 900),
        height: 220,
        series: [{}, ...seriesKey.split('\u0000').map((label, i) => ({ label, stroke: colours[i % colours.length], width: 2 }))],
        axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor' }],
      },
      latest.current as uPlot.AlignedData,
      box.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [seriesKey]);
  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);
  return <div ref={box} className="chart" role="img" aria-label={title} />;
}
