// The supervisor dashboard: the KPIs of a period (GET /api/kpis) as time series and
// distributions, with the period and filters as controls, the cases at risk of an SLA
// breach (GET /api/sla/at-risk), refreshed as events arrive (a long poll on the KPI
// projection's position: GET /api/kpis/changes). Charts: Chart.js, bundled and served by
// our own server like the rest of the console.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get } from "../api";
import type { ScreenProps } from "../routes";
import { Field } from "../ui/command";
import { label } from "../ui/format";

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Legend,
  Tooltip,
);

interface Duration {
  count: number;
  mean_s: number | null;
  p50_s: number | null;
  p90_s: number | null;
  histogram: { from_s: number; count: number }[];
}

interface Entry {
  period: string;
  group: string | null;
  intake?: { opened: number; first_response: Duration };
  swarm?: { swarm_rate: number | null; time_to_first_expert: Duration };
  resolution?: {
    resolved: number;
    first_contact_resolution_rate: number | null;
    handoff_rate: number | null;
    resolution_time: Duration;
  };
  sla?: Record<string, { met: number; breached: number; compliance: number | null }>;
  backlog?: { open: number; mean_age_s: number };
  satisfaction?: { responses: number; mean: number | null };
  specialists?: { specialist_allocation: number | null };
}

interface Kpis {
  series: Entry[];
}

interface Risk {
  case_id: string;
  target: string;
  status: string;
  due_at: number;
  warned: boolean;
  priority: string;
  subject: string;
  customer: string;
}

const DAY = 86_400_000;
const iso = (date: Date): string => date.toISOString().slice(0, 10);
const hours = (seconds: number | null | undefined): string =>
  seconds == null ? "–" : `${(seconds / 3600).toFixed(1)} h`;
const percent = (share: number | null | undefined): string =>
  share == null ? "–" : `${Math.round(share * 100)}%`;
const BINS = ["<15 min", "15 min–1 h", "1–4 h", "4–8 h", "8–24 h", "1–3 d", "3–7 d", "≥7 d"];
const COLORS = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c"];

/** One chart on a canvas, rebuilt when its configuration changes. */
function ChartBox({ name, config }: { name: string; config: ChartConfiguration }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return undefined;
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [config]);
  return (
    <figure class="chart">
      <figcaption>{name}</figcaption>
      <canvas ref={canvas} role="img" aria-label={name} />
    </figure>
  );
}

function line(labels: string[], sets: { label: string; data: (number | null)[] }[], max?: number) {
  const config: ChartConfiguration = {
    type: "line",
    data: {
      labels,
      datasets: sets.map((set, i) => ({ ...set, borderColor: COLORS[i], backgroundColor: COLORS[i] })),
    },
    options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, max } } },
  };
  return config;
}

export function Outcomes(_props: ScreenProps) {
  const [from, setFrom] = useState(iso(new Date(Date.now() - 84 * DAY)));
  const [to, setTo] = useState(iso(new Date()));
  const [by, setBy] = useState("week");
  const [area, setArea] = useState("");
  const [priority, setPriority] = useState("");
  const [kpis, setKpis] = useState<Kpis | null>(null);
  const [risks, setRisks] = useState<Risk[]>([]);
  const [error, setError] = useState("");
  const [position, setPosition] = useState(0);

  useEffect(() => {
    const query = new URLSearchParams({ from, to, by });
    if (area.trim()) query.set("product_area", area.trim());
    if (priority) query.set("priority", priority);
    let live = true;
    Promise.all([get<Kpis>(`/api/kpis?${query}`), get<{ items: Risk[] }>("/api/sla/at-risk")])
      .then(([answer, atRisk]) => {
        if (!live) return;
        setKpis(answer);
        setRisks(atRisk.items);
        setError("");
      })
      .catch((e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [from, to, by, area, priority, position]);

  useEffect(() => {
    // live: wait for the KPI projection to move past what is shown, then reload
    let stopped = false;
    let seen = position;
    const follow = async () => {
      while (!stopped) {
        try {
          const moved = await get<{ position: number }>(`/api/kpis/changes?after=${seen}&wait=20`);
          if (!stopped && moved.position > seen) {
            seen = moved.position;
            setPosition(moved.position);
          }
        } catch {
          await new Promise((done) => setTimeout(done, 2000));
        }
      }
    };
    void follow();
    return () => {
      stopped = true;
    };
  }, []);

  const series = (kpis?.series ?? []).filter((e) => e.group === null);
  const labels = series.map((e) => e.period);
  const sum = (pick: (e: Entry) => number | undefined) =>
    series.reduce((total, e) => total + (pick(e) ?? 0), 0);
  const histogram = BINS.map((_, i) =>
    sum((e) => e.resolution?.resolution_time.histogram[i]?.count),
  );
  const targets = ["first_response", "next_response", "resolution"];
  const latest = series.at(-1);
  const opened = sum((e) => e.intake?.opened);
  const resolved = sum((e) => e.resolution?.resolved);
  const met = targets.reduce((t, k) => t + sum((e) => e.sla?.[k]?.met), 0);
  const breached = targets.reduce((t, k) => t + sum((e) => e.sla?.[k]?.breached), 0);
  return (
    <section aria-labelledby="outcomes-title" class="outcomes">
      <h1 id="outcomes-title">Outcomes</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Period and filters">
        <Field label="From" id="k-from">
          <input id="k-from" type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </Field>
        <Field label="To" id="k-to">
          <input id="k-to" type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </Field>
        <Field label="By" id="k-by">
          <select id="k-by" value={by} onChange={(e) => setBy(e.currentTarget.value)}>
            <option value="day">day</option>
            <option value="week">week</option>
          </select>
        </Field>
        <Field label="Product area" id="k-area">
          <input id="k-area" value={area} onChange={(e) => setArea(e.currentTarget.value)} />
        </Field>
        <Field label="Priority" id="k-priority">
          <select id="k-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
            <option value="">any</option>
            {["low", "normal", "high", "urgent"].map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </Field>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {kpis === null ? (
        <p>Loading…</p>
      ) : (
        <>
          <dl class="tiles" aria-label="The period at a glance">
            <div data-kpi="opened">
              <dt>Opened</dt>
              <dd>{opened}</dd>
            </div>
            <div data-kpi="resolved">
              <dt>Resolved</dt>
              <dd>{resolved}</dd>
            </div>
            <div data-kpi="sla">
              <dt>SLA compliance</dt>
              <dd>{met + breached ? percent(met / (met + breached)) : "–"}</dd>
            </div>
            <div data-kpi="backlog">
              <dt>Backlog now</dt>
              <dd>{latest?.backlog?.open ?? 0}</dd>
            </div>
            <div data-kpi="resolution-p50">
              <dt>Resolution time (p50, last period)</dt>
              <dd>{hours(latest?.resolution?.resolution_time.p50_s)}</dd>
            </div>
            <div data-kpi="csat">
              <dt>Satisfaction (last period)</dt>
              <dd>{latest?.satisfaction?.mean?.toFixed(1) ?? "–"}</dd>
            </div>
          </dl>
          <div class="charts">
            <ChartBox
              name="Cases opened, resolved and open"
              config={line(labels, [
                { label: "opened", data: series.map((e) => e.intake?.opened ?? 0) },
                { label: "resolved", data: series.map((e) => e.resolution?.resolved ?? 0) },
                { label: "backlog", data: series.map((e) => e.backlog?.open ?? 0) },
              ])}
            />
            <ChartBox
              name="SLA compliance by target"
              config={line(
                labels,
                targets.map((t) => ({
                  label: label(t),
                  data: series.map((e) => e.sla?.[t]?.compliance ?? null),
                })),
                1,
              )}
            />
            <ChartBox
              name="Resolution time distribution"
              config={{
                type: "bar",
                data: { labels: BINS, datasets: [{ label: "cases", data: histogram, backgroundColor: COLORS[0] }] },
                options: { animation: false, responsive: true },
              }}
            />
            <ChartBox
              name="Swarming: swarm rate, first contact resolution, specialist allocation"
              config={line(
                labels,
                [
                  { label: "swarm rate", data: series.map((e) => e.swarm?.swarm_rate ?? null) },
                  {
                    label: "first contact resolution",
                    data: series.map((e) => e.resolution?.first_contact_resolution_rate ?? null),
                  },
                  {
                    label: "specialist allocation",
                    data: series.map((e) => e.specialists?.specialist_allocation ?? null),
                  },
                ],
                1,
              )}
            />
          </div>
        </>
      )}
      <h2 id="risk-title">At risk of breach</h2>
      {risks.length === 0 ? (
        <p>No case is at risk.</p>
      ) : (
        <div class="table-wrap">
          <table class="cases" aria-labelledby="risk-title">
            <thead>
              <tr>
                <th scope="col">Case</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Due</th>
              </tr>
            </thead>
            <tbody>
              {risks.map((r) => (
                <tr key={`${r.case_id}-${r.target}`} data-risk={r.case_id}>
                  <td>
                    <a href={`/cases/${r.case_id}`} data-route>
                      {r.subject || r.case_id}
                    </a>
                    <div class="muted">{r.customer}</div>
                  </td>
                  <td>{label(r.target)}</td>
                  <td>
                    <span class={`pill sla-${r.status}`}>{r.warned && r.status === "running" ? "warned" : r.status}</span>
                  </td>
                  <td>{new Date(r.due_at * 1000).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
