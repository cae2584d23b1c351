// The shell: who is signed in, the navigation, the screen the route table picks.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, signOut } from "./api";
import { useLive } from "./live";
import { ROUTES } from "./routes";
import { match, navigate, useLocation } from "./router";
import { SignIn } from "./screens/sign-in";
import type { Inbox, Me } from "./views";

type Who = { state: "loading" } | { state: "signed-out"; detail: string } | { state: "in"; me: Me };

export function App() {
  const [who, setWho] = useState<Who>({ state: "loading" });
  useEffect(() => {
    get<Me>("/api/me")
      .then((me) => setWho({ state: "in", me }))
      .catch((error: unknown) =>
        setWho({
          state: "signed-out",
          detail: error instanceof ApiError ? (error.problem.detail ?? error.problem.title) : String(error),
        }),
      );
  }, []);
  if (who.state === "loading") return <p class="loading">Loading…</p>;
  if (who.state === "signed-out") return <SignIn detail={who.detail} />;
  return <Shell me={who.me} />;
}

function Shell({ me }: { me: Me }) {
  const location = useLocation();
  const inbox = useLive<Inbox>("/ws/inbox");
  const pending = (inbox.view?.items ?? []).filter(
    (item) => item.kind === "invitation" && item.status === "pending",
  ).length;
  const allowed = ROUTES.filter((route) => !route.roles || route.roles.includes(me.role));
  let screen = null;
  let title = "Not found";
  for (const route of allowed) {
    const params = match(route.pattern, location.path);
    if (params) {
      const Screen = route.screen;
      title = route.title;
      screen = <Screen params={params} query={location.query} me={me} />;
      break;
    }
  }
  useEffect(() => {
    document.title = `${title} · Swarmdesk`;
  }, [title]);
  const out = async () => {
    await signOut().catch(() => undefined);
    window.location.assign("/");
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/" data-route>
          Swarmdesk
        </a>
        <nav aria-label="Main">
          <ul>
            {allowed
              .filter((route) => route.nav)
              .map((route) => (
                <li key={route.pattern}>
                  <a
                    href={route.pattern}
                    data-route
                    aria-current={match(route.pattern, location.path) ? "page" : undefined}
                  >
                    {route.title}
                    {route.pattern === "/inbox" && pending > 0 ? (
                      <span class="badge" aria-label={`${pending} pending invitations`}>
                        {pending}
                      </span>
                    ) : null}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {me.name || me.subject} <span class="muted">({me.role})</span>
          </span>
          <button type="button" class="link" onClick={out}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {screen ?? (
          <section>
            <h1>Not found</h1>
            <p>
              Nothing lives at this address. <a href="/" onClick={(e) => (e.preventDefault(), navigate("/"))}>Back to my cases</a>
            </p>
          </section>
        )}
      </main>
    </>
  );
}
