// Stats as charts (inline SVG, styled by the stylesheet, each with its numbers in a table for screen readers).
import { EVENT_TYPES, type EventType } from '../../chatlio/index.js';
import type { DeliveryStatus } from '../../store/storage.js';
import { Layout } from '../layout.js';
import { Notice, Scroll } from '../components.js';

export type StatsProps = {
  csrfToken: string;
  from: string;
  to: string;
  days: Array<{ day: string; byType: Record<EventType, number>; total: number }>;
  ratings: { up: number; down: number };
  firstResponseSeconds: number[];
  deliveries: Record<DeliveryStatus, number>;
  error?: string;
};

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

const BUCKETS: Array<{ label: string; below: number }> = [
  { label: '< 30 s', below: 30 },
  { label: '30–60 s', below: 60 },
  { label: '1–2 min', below: 120 },
  { label: '2–5 min', below: 300 },
  { label: '5–15 min', below: 900 },
  { label: '≥ 15 min', below: Number.POSITIVE_INFINITY },
];

export function histogram(seconds: readonly number[]): Array<{ label: string; n: number }> {
  const counts = BUCKETS.map((bucket) => ({ label: bucket.label, n: 0 }));
  for (const value of seconds) counts[BUCKETS.findIndex((bucket) => value < bucket.below)]!.n += 1;
  return counts;
}

const HEIGHT = 160;

function DayChart({ days }: { days: StatsProps['days'] }) {
  const max = Math.max(1, ...days.map((day) => day.total));
  const bar = 18;
  const gap = 4;
  const width = Math.max(1, days.length) * (bar + gap);
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${width} ${HEIGHT + 20}`} role="img" aria-labelledby="days-title" preserveAspectRatio="xMinYMax meet">
        <title id="days-title">Events per day by type</title>
        {days.map((day, index) => {
          let y = HEIGHT;
          return (
            <g key={day.day}>
              {EVENT_TYPES.map((type) => {
                const h = (day.byType[type] / max) * HEIGHT;
                y -= h;
                return h > 0 ? <rect class={`fill-${type}`} x={index * (bar + gap)} y={y} width={bar} height={h} key={type} /> : null;
              })}
              {index % 7 === 0 && (
                <text class="axis" x={index * (bar + gap)} y={HEIGHT + 14}>
                  {day.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {EVENT_TYPES.map((type) => (
            <li key={type}>
              <span class={`swatch fill-${type}`} aria-hidden="true" /> {type}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

function Bars({ id, title, bars }: { id: string; title: string; bars: Array<{ label: string; n: number; class: string }> }) {
  const max = Math.max(1, ...bars.map((bar) => bar.n));
  const row = 26;
  return (
    <svg class="chart bars" viewBox={`0 0 320 ${bars.length * row}`} role="img" aria-labelledby={id}>
      <title id={id}>{title}</title>
      {bars.map((bar, index) => (
        <g key={bar.label}>
          <text class="axis" x="0" y={index * row + 17}>{bar.label}</text>
          <rect class={bar.class} x="80" y={index * row + 4} width={Math.max(bar.n > 0 ? 2 : 0, (bar.n / max) * 200)} height="18" />
          <text class="axis" x={86 + (bar.n / max) * 200} y={index * row + 17}>{bar.n}</text>
        </g>
      ))}
    </svg>
  );
}

export function StatsPage({ csrfToken, from, to, days, ratings, firstResponseSeconds, deliveries, error }: StatsProps) {
  const total = days.reduce((sum, day) => sum + day.total, 0);
  const middle = median(firstResponseSeconds);
  const rated = ratings.up + ratings.down;
  return (
    <Layout title="Stats" nav="stats" csrfToken={csrfToken}>
      <h1>Stats</h1>
      {error && <Notice kind="error">{error}</Notice>}
      <form method="get" action="/ui/stats" class="filters">
        <div class="field">
          <label for="from">From</label>
          <input id="from" name="from" type="date" value={from} />
        </div>
        <div class="field">
          <label for="to">To</label>
          <input id="to" name="to" type="date" value={to} />
        </div>
        <div class="actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <div class="cards">
        <p class="card"><span class="big">{total}</span> events</p>
        <p class="card"><span class="big">{rated === 0 ? '—' : `${Math.round((ratings.up / rated) * 100)} %`}</span> rated up ({rated} rated)</p>
        <p class="card"><span class="big">{middle === null ? '—' : formatSeconds(middle)}</span> median first response ({firstResponseSeconds.length} chats)</p>
        <p class="card"><span class="big">{deliveries.dead}</span> dead deliveries</p>
      </div>

      <section aria-labelledby="by-day-title">
        <h2 id="by-day-title">Events by type and day</h2>
        {days.length === 0 ? <p class="muted">No events in this range.</p> : <DayChart days={days} />}
        <details>
          <summary>The numbers</summary>
          <Scroll label="Events by type and day, as numbers">
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {EVENT_TYPES.map((type) => <th scope="col" key={type}>{type}</th>)}
                </tr>
              </thead>
              <tbody>
                {days.map((day) => (
                  <tr key={day.day}>
                    <th scope="row">{day.day}</th>
                    {EVENT_TYPES.map((type) => <td key={type}>{day.byType[type]}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </details>
      </section>

      <section aria-labelledby="ratings-title">
        <h2 id="ratings-title">Ratings</h2>
        <Bars id="ratings-chart" title={`Ratings: ${ratings.up} up, ${ratings.down} down`} bars={[
          { label: 'up', n: ratings.up, class: 'fill-up' },
          { label: 'down', n: ratings.down, class: 'fill-down' },
        ]} />
      </section>

      <section aria-labelledby="response-title">
        <h2 id="response-title">First response</h2>
        <Bars id="response-chart" title="Chats by time to the first agent answer" bars={histogram(firstResponseSeconds).map((bucket) => ({ ...bucket, class: 'fill-transcript' }))} />
      </section>

      <section aria-labelledby="delivery-title">
        <h2 id="delivery-title">Deliveries of these events</h2>
        <Bars id="delivery-chart" title="Deliveries by status" bars={(Object.keys(deliveries) as DeliveryStatus[]).map((status) => ({ label: status, n: deliveries[status], class: `fill-status-${status}` }))} />
      </section>
    </Layout>
  );
}
