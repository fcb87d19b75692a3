// One typed door to the Rust side: a command name that does not exist, or arguments of the
// wrong shape, fail to compile.
import { invoke } from "@tauri-apps/api/core";
import type { AccessRequest } from "../bindings/AccessRequest";
import type { AccessResponse } from "../bindings/AccessResponse";
import type { AddProfileRequest } from "../bindings/AddProfileRequest";
import type { AppliedPolicy } from "../bindings/AppliedPolicy";
import type { CheckResponse } from "../bindings/CheckResponse";
import type { CampaignDetail } from "../bindings/CampaignDetail";
import type { CampaignList } from "../bindings/CampaignList";
import type { CloseResponse } from "../bindings/CloseResponse";
import type { ScanResponse } from "../bindings/ScanResponse";
import type { SearchRequest } from "../bindings/SearchRequest";
import type { SearchResponse } from "../bindings/SearchResponse";
import type { TimelineResponse } from "../bindings/TimelineResponse";
import type { ImportStatus } from "../bindings/ImportStatus";
import type { DecideRequest } from "../bindings/DecideRequest";
import type { DecideResponse } from "../bindings/DecideResponse";
import type { ItemsRequest } from "../bindings/ItemsRequest";
import type { ItemsResponse } from "../bindings/ItemsResponse";
import type { ReassignRequest } from "../bindings/ReassignRequest";
import type { ReassignResponse } from "../bindings/ReassignResponse";
import type { StartRequest } from "../bindings/StartRequest";
import type { Started } from "../bindings/Started";
import type { ComplianceSummary } from "../bindings/ComplianceSummary";
import type { FindingDetail } from "../bindings/FindingDetail";
import type { FindingsRequest } from "../bindings/FindingsRequest";
import type { FindingsResponse } from "../bindings/FindingsResponse";
import type { PolicyDiff } from "../bindings/PolicyDiff";
import type { PolicyHistory } from "../bindings/PolicyHistory";
import type { PolicyLint } from "../bindings/PolicyLint";
import type { PolicyVersionView } from "../bindings/PolicyVersionView";
import type { SimulateResponse } from "../bindings/SimulateResponse";
import type { TriageRequest } from "../bindings/TriageRequest";
import type { TriageResponse } from "../bindings/TriageResponse";
import type { ConnectionInfo } from "../bindings/ConnectionInfo";
import type { DashboardResponse } from "../bindings/DashboardResponse";
import type { IpcError } from "../bindings/IpcError";
import type { PermissionsResponse } from "../bindings/PermissionsResponse";
import type { RoleDetail } from "../bindings/RoleDetail";
import type { RoleRequest } from "../bindings/RoleRequest";
import type { RolesResponse } from "../bindings/RolesResponse";
import type { Target } from "../bindings/Target";
import type { UsersRequest } from "../bindings/UsersRequest";
import type { UsersResponse } from "../bindings/UsersResponse";
import type { WhoCanRequest } from "../bindings/WhoCanRequest";
import type { WhoCanResponse } from "../bindings/WhoCanResponse";
import type { ExportRequest } from "../bindings/ExportRequest";
import type { ExportStatus } from "../bindings/ExportStatus";
import type { VerifyResponse } from "../bindings/VerifyResponse";
import type { EventsRequest } from "../bindings/EventsRequest";
import type { EventsResponse } from "../bindings/EventsResponse";
import type { ChainState } from "../bindings/ChainState";

export type Commands = {
  connection: { args: { retry: boolean }; result: ConnectionInfo };
  connect: { args: { target: Target }; result: ConnectionInfo };
  add_profile: { args: { req: AddProfileRequest }; result: ConnectionInfo };
  dashboard: { args: Record<string, never>; result: DashboardResponse };
  users: { args: { req: UsersRequest }; result: UsersResponse };
  access: { args: { req: AccessRequest }; result: AccessResponse };
  roles: { args: Record<string, never>; result: RolesResponse };
  role: { args: { req: RoleRequest }; result: RoleDetail };
  who_can: { args: { req: WhoCanRequest }; result: WhoCanResponse };
  permissions: { args: Record<string, never>; result: PermissionsResponse };
  policy_show: { args: { version: number | null }; result: PolicyVersionView };
  policy_history: { args: Record<string, never>; result: PolicyHistory };
  policy_diff: { args: { from: number; to: number }; result: PolicyDiff };
  policy_lint: { args: { text: string }; result: PolicyLint };
  policy_apply: { args: { text: string; comment: string }; result: AppliedPolicy };
  policy_simulate: { args: { text: string; days: number }; result: SimulateResponse };
  check: { args: Record<string, never>; result: CheckResponse };
  findings: { args: { req: FindingsRequest }; result: FindingsResponse };
  finding: { args: { id: number }; result: FindingDetail };
  triage: { args: { req: TriageRequest }; result: TriageResponse };
  compliance: { args: Record<string, never>; result: ComplianceSummary };
  review_list: { args: Record<string, never>; result: CampaignList };
  review_show: { args: { id: number }; result: CampaignDetail };
  review_items: { args: { req: ItemsRequest }; result: ItemsResponse };
  review_start: { args: { req: StartRequest }; result: Started };
  review_decide: { args: { req: DecideRequest }; result: DecideResponse };
  review_reassign: { args: { req: ReassignRequest }; result: ReassignResponse };
  review_close: { args: { id: number; dry: boolean }; result: CloseResponse };
  logs_search: { args: { req: SearchRequest }; result: SearchResponse };
  logs_scan: { args: { full: boolean }; result: ScanResponse };
  logs_timeline: { args: { req: SearchRequest; buckets: number }; result: TimelineResponse };
  logs_import: { args: { format: string; path: string }; result: number };
  logs_import_status: { args: { id: number }; result: ImportStatus };
  export_start: { args: { req: ExportRequest }; result: number };
  export_status: { args: { id: number }; result: ExportStatus };
  export_cancel: { args: { id: number }; result: null };
  export_verify: { args: { path: string }; result: VerifyResponse };
  audit_events: { args: { req: EventsRequest }; result: EventsResponse };
  audit_verify: { args: Record<string, never>; result: ChainState };
};

export type CommandName = keyof Commands;

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** Calls a Rust command; rejects with an `IpcError` ({code, message}). */
export async function call<K extends CommandName>(
  cmd: K,
  args: Commands[K]["args"],
): Promise<Commands[K]["result"]> {
  try {
    return await invoke<Commands[K]["result"]>(cmd, args);
  } catch (e) {
    if (isIpcError(e)) throw e;
    const err: IpcError = { code: "internal", message: String(e), detail: null };
    throw err;
  }
}
