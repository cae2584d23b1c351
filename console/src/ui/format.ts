// Small formatting helpers shared by the screens.
import type { CaseView } from "../views";

const time = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : time.format(date);
}

/** A person's name from the case's participants and invitations (else a short id). */
export function nameIn(view: CaseView | null, id: string | null | undefined): string {
  if (!id) return "";
  if (view) {
    if (view.owner.id === id) return view.owner.name || "the owner";
    const participant = view.participants[id];
    if (participant?.name) return participant.name;
    for (const invitation of Object.values(view.invitations)) {
      if (invitation.expert_id === id && invitation.expert_name) return invitation.expert_name;
    }
  }
  return `agent ${id.slice(0, 8)}`;
}

export const label = (value: string): string => value.replace(/_/g, " ");

/** Event type names in words: "ExpertJoined" -> "expert joined". */
export const words = (type: string): string =>
  type.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
