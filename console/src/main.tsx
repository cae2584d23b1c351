import { render } from "preact";
import { App } from "./app";
import { prefetch } from "./live";
import "./styles.css";

// A case room's socket opens at once, in parallel with the sign-in check.
const room = /^\/cases\/([0-9a-f-]{36})\/?$/.exec(window.location.pathname);
if (room && !new URLSearchParams(window.location.search).has("at_version")) {
  prefetch(`/ws/cases/${room[1]}?presence=1`);
}

const root = document.getElementById("app");
if (root) render(<App />, root);
