/** A small line or bar chart in SVG (no inline styles: the CSP allows none), with its figures in words for screen readers. */

export interface Series {
  name: string;
  /** CSS class of the line or bars (colour). */
  class: string;
  values: (number | null)[];
}

const W = 300;
const H = 80;

export function Chart({ title, series, kind, summary }: { title: string; series: Series[]; kind: 'line' | 'bar'; summary: string }) {
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  const x = (i: number) => (n === 1 ? W : (i / (n - 1)) * W);
  const y = (v: number) => H - (v / max) * (H - 4);
  return (
    <figure class="chart">
      <figcaption>{title} <span class="chart-max">max {max}</span></figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={summary}>
        <line x1="0" y1={H - 0.5} x2={W} y2={H - 0.5} class="axis" />
        {kind === 'line'
          ? series.map((s) => {
              const pts = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter((p) => p !== null);
              return <polyline key={s.name} class={`line ${s.class}`} points={pts.join(' ')} />;
            })
          : series.map((s, k) =>
              s.values.map((v, i) => {
                const bw = W / n / series.length;
                const h = v === null ? 0 : (v / max) * (H - 4);
                return <rect key={`${s.name}${i}`} class={`bar ${s.class}`} x={(i * W) / n + k * bw} y={H - h} width={Math.max(0.5, bw - 0.5)} height={h} />;
              }),
            )}
      </svg>
      <ul class="legend">
        {series.map((s) => <li key={s.name}><span class={`swatch ${s.class}`} aria-hidden="true" />{s.name}</li>)}
      </ul>
    </figure>
  );
}
