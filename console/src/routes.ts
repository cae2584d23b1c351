// The route table: one entry per screen, one module per screen (screens/). To add a pane
// (the KPI dashboard, expert matching, knowledge articles): write screens/<name>.tsx
// exporting a component taking `ScreenProps`, add an entry here, and add its path to
// CONSOLE_PATHS in app/http/console.py so a reload or a link serves the page there too.
import type { ComponentType } from "preact";
import type { Me } from "./views";
import { Board } from "./screens/board";
import { CaseRoom } from "./screens/case-room/room";
import { InboxScreen } from "./screens/inbox";
import { ArticleScreen } from "./screens/knowledge/article";
import { KnowledgeSearch } from "./screens/knowledge/search";
import { MyCases } from "./screens/my-cases";
import { Outcomes } from "./screens/outcomes";
import { Supervisor } from "./screens/supervisor";

export interface ScreenProps {
  params: Record<string, string>;
  query: URLSearchParams;
  me: Me;
}

export interface Route {
  /** A path pattern; `:name` matches one segment. */
  pattern: string;
  /** The document title (and the navigation label when `nav` is set). */
  title: string;
  /** Shown in the navigation bar, in table order. */
  nav?: boolean;
  /** Only for these roles (default: everyone signed in). */
  roles?: Me["role"][];
  screen: ComponentType<ScreenProps>;
}

export const ROUTES: Route[] = [
  { pattern: "/", title: "My cases", nav: true, screen: MyCases },
  { pattern: "/inbox", title: "Inbox", nav: true, screen: InboxScreen },
  { pattern: "/board", title: "Swarm board", nav: true, screen: Board },
  {
    pattern: "/supervisor",
    title: "All open cases",
    nav: true,
    roles: ["supervisor", "admin"],
    screen: Supervisor,
  },
  {
    pattern: "/outcomes",
    title: "Outcomes",
    nav: true,
    roles: ["supervisor", "admin"],
    screen: Outcomes,
  },
  { pattern: "/cases/:id", title: "Case room", screen: CaseRoom },
  { pattern: "/knowledge", title: "Knowledge", nav: true, screen: KnowledgeSearch },
  { pattern: "/articles/:id", title: "Article", screen: ArticleScreen },
];
