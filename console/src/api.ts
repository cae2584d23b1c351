// HTTP to the API on the page's own origin: the session cookie rides along, every
// refusal comes back as the server's RFC 9457 problem detail (`ApiError.problem`).

/** An RFC 9457 problem detail as the server sends it (extra members included). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  current_version?: number;
  errors?: { field: string; message: string }[];
  [member: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
  }
}

export interface CommandOptions {
  /** The version the decision was taken on: the server answers 412 when it moved. */
  ifMatch?: number;
  /** Makes a retry of the same action safe (default: a new key per call). */
  idempotencyKey?: string;
}

/** What every command answers (plus the id of what it created). */
export interface Accepted {
  case_id: string;
  version: number;
  position: number;
  [created: string]: unknown;
}

/** A random key (crypto.getRandomValues works on plain http too, unlike randomUUID). */
export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body = (await response.json()) as Partial<Problem>;
    return { type: "about:blank", title: response.statusText, status: response.status, ...body };
  } catch {
    return { type: "about:blank", title: response.statusText || "Request failed", status: response.status };
  }
}

async function send<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { method, credentials: "same-origin", ...init });
  } catch (error) {
    throw new ApiError({ type: "about:blank", title: "Network error", status: 0, detail: String(error) });
  }
  if (!response.ok) throw new ApiError(await problemOf(response));
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** GET a JSON document. */
export function get<T>(path: string): Promise<T> {
  return send<T>("GET", path, { headers: { Accept: "application/json" } });
}

/** Run a command (POST / PUT / DELETE with a JSON body). */
export function command<T = Accepted>(
  method: "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  options: CommandOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Idempotency-Key": options.idempotencyKey ?? newKey(),
  };
  if (options.ifMatch !== undefined) headers["If-Match"] = String(options.ifMatch);
  const init: RequestInit = { headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return send<T>(method, path, init);
}

/** Sign out (ends the session everywhere); the page then shows the sign-in help. */
export function signOut(): Promise<void> {
  return send<void>("POST", "/auth/logout");
}
