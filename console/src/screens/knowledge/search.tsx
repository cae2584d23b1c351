// Knowledge: search published articles and resolved cases (best passage highlighted),
// filtered by product area and status; my drafts, to go on editing them.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "../../api";
import { runs, type Article, type Hit } from "../../knowledge";
import type { ScreenProps } from "../../routes";
import { navigate } from "../../router";
import { label, when } from "../../ui/format";

export function Highlight({ text }: { text: string }) {
  return (
    <p class="highlight">
      {runs(text).map((run, n) => (run.marked ? <mark key={n}>{run.text}</mark> : <span key={n}>{run.text}</span>))}
    </p>
  );
}

export const hitPath = (hit: Hit): string => (hit.kind === "article" ? `/articles/${hit.id}` : `/cases/${hit.id}`);

export function KnowledgeSearch({ query }: ScreenProps) {
  const q = query.get("q") ?? "";
  const area = query.get("product_area") ?? "";
  const status = query.get("status") ?? "";
  const [text, setText] = useState(q);
  const [areaText, setArea] = useState(area);
  const [statusText, setStatus] = useState(status);
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    if (!q.trim()) {
      setHits(null);
      return;
    }
    const params = new URLSearchParams({ q });
    if (area) params.set("product_area", area);
    if (status) params.set("status", status);
    get<{ hits: Hit[] }>(`/api/search?${params.toString()}`)
      .then((found) => {
        setHits(found.hits);
        setProblem("");
      })
      .catch((error: unknown) => {
        setHits(null);
        setProblem(error instanceof ApiError ? (error.problem.detail ?? error.problem.title) : String(error));
      });
  }, [q, area, status]);
  const submit = (event: Event) => {
    event.preventDefault();
    const params = new URLSearchParams({ q: text });
    if (areaText.trim()) params.set("product_area", areaText.trim());
    if (statusText) params.set("status", statusText);
    navigate(`/knowledge?${params.toString()}`);
  };
  return (
    <section aria-labelledby="knowledge-title">
      <h1 id="knowledge-title">Knowledge</h1>
      <form class="search" role="search" onSubmit={submit}>
        <label>
          Search knowledge
          <input type="search" value={text} maxLength={2000} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label>
          Product area
          <input value={areaText} maxLength={200} onInput={(e) => setArea(e.currentTarget.value)} />
        </label>
        <label>
          Status
          <select value={statusText} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any but retired</option>
            <option value="published">published articles</option>
            <option value="flagged">flagged articles</option>
            <option value="resolved">resolved cases</option>
            <option value="closed">closed cases</option>
            <option value="retired">retired articles</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {hits === null ? null : hits.length === 0 ? (
        <p role="status">Nothing found for “{q}”.</p>
      ) : (
        <ol class="hits" aria-label="Search results">
          {hits.map((hit) => (
            <li key={hit.id} class="card hit" data-kind={hit.kind} data-id={hit.id}>
              <h2>
                <a href={hitPath(hit)} data-route>
                  {hit.title}
                </a>
              </h2>
              <p class="muted">
                {hit.kind === "article" ? "Article" : "Solved case"} · {label(hit.status)}
                {hit.product_area ? ` · ${hit.product_area}` : ""}
                {hit.kind === "article" ? ` · reused ${hit.reuse_count}×` : ""} · {when(hit.updated_at)}
              </p>
              <Highlight text={hit.highlight} />
            </li>
          ))}
        </ol>
      )}
      <MyDrafts />
    </section>
  );
}

function MyDrafts() {
  const [drafts, setDrafts] = useState<Article[]>([]);
  useEffect(() => {
    get<Article[]>("/api/articles?status=draft&limit=50")
      .then(setDrafts)
      .catch(() => setDrafts([]));
  }, []);
  if (drafts.length === 0) return null;
  return (
    <section aria-labelledby="drafts-title">
      <h2 id="drafts-title">Drafts</h2>
      <ul>
        {drafts.map((draft) => (
          <li key={draft.article_id}>
            <a href={`/articles/${draft.article_id}`} data-route>
              {draft.title}
            </a>{" "}
            <span class="muted">· {when(draft.updated_at)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
