// A tiny router: the app is one window, and every screen is a value.
import type { FindingKind } from "../bindings/FindingKind";
import type { FindingStatus } from "../bindings/FindingStatus";
import type { Severity } from "../bindings/Severity";

export type Route =
  | { page: "dashboard" }
  | { page: "people"; search?: string; department?: string }
  | { page: "person"; login: string }
  | { page: "roles" }
  | { page: "role"; name: string }
  | { page: "whocan"; permission?: string }
  | { page: "policies" }
  | { page: "findings"; kind?: FindingKind; severity?: Severity; status?: FindingStatus }
  | { page: "finding"; id: number }
  | { page: "reviews" }
  | { page: "campaign"; id: number }
  | { page: "inbox"; id: number }
  | { page: "logs"; user?: string; since?: string; until?: string; outcome?: string; action?: string; source?: string }
  | { page: "exports" }
  | { page: "audit" }
  | { page: "connection" }
  | { page: "coming"; what: string };

export type Navigate = (r: Route) => void;
