// The push client module: `PushClient` follows one view document live (see client.ts).
export {
  FINAL_CLOSE_CODES,
  PushClient,
  type Connect,
  type PushChange,
  type PushOptions,
  type PushStatus,
  type Present,
  type SocketLike,
} from "./client";
export { socketUrl } from "./url";
