// Every command the desktop window may call, declared once: its name, the arguments the
// page sends, and what it answers. From this one list come the Tauri handler list
// (`lib.rs`), the app manifest's command list (`build.rs`), the capability's allow-list
// (`capabilities/default.json`) and the TypeScript command map (`ui/src/lib/commands.ts`);
// `tests/ui.rs` fails when a generated file, or a command's Rust signature, drifts from it.
//
// Types are written as the page sees them: a type name of `ui/src/bindings`, or `bool`,
// `String`, an integer, `Option<T>`, `()`.

// Calls `$then! { name(arg: Type, ...) -> Result; ... }` with the declaration.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            connection(retry: bool) -> ConnectionInfo;
            connect(profile: String) -> ConnectionInfo;
            add_profile(req: AddProfileRequest) -> ConnectionInfo;
            change_password(new: String) -> ConnectionInfo;
            activity() -> bool;
            lock() -> ConnectionInfo;
            unlock(password: String) -> ConnectionInfo;
            dashboard() -> DashboardResponse;
            users(req: UsersRequest) -> UsersResponse;
            access(req: AccessRequest) -> AccessResponse;
            roles() -> RolesResponse;
            role(req: RoleRequest) -> RoleDetail;
            who_can(req: WhoCanRequest) -> WhoCanResponse;
            permissions() -> PermissionsResponse;
            policy_show(version: Option<u32>) -> PolicyVersionView;
            policy_history() -> PolicyHistory;
            policy_diff(from: u32, to: u32) -> PolicyDiff;
            policy_lint(text: String) -> PolicyLint;
            policy_apply(text: String, comment: String) -> AppliedPolicy;
            policy_simulate(text: String, days: u32) -> SimulateResponse;
            check() -> CheckResponse;
            findings(req: FindingsRequest) -> FindingsResponse;
            finding(id: u64) -> FindingDetail;
            triage(req: TriageRequest) -> TriageResponse;
            compliance() -> ComplianceSummary;
            review_list() -> CampaignList;
            review_show(id: u64) -> CampaignDetail;
            review_items(req: ItemsRequest) -> ItemsResponse;
            review_start(req: StartRequest) -> Started;
            review_decide(req: DecideRequest) -> DecideResponse;
            review_reassign(req: ReassignRequest) -> ReassignResponse;
            review_close(id: u64, dry: bool, digest: Option<String>) -> CloseResponse;
            logs_search(req: SearchRequest) -> SearchResponse;
            logs_scan(full: bool) -> ScanResponse;
            logs_timeline(req: SearchRequest, buckets: u32) -> TimelineResponse;
            choose_file(purpose: FilePurpose, suggested: Option<String>) -> Option<ChosenFile>;
            logs_import(format: String, file: u64) -> u64;
            logs_import_status(id: u64) -> ImportStatus;
            logs_import_cancel(id: u64) -> ();
            export_start(req: ExportStart) -> u64;
            export_status(id: u64) -> ExportStatus;
            export_cancel(id: u64) -> ();
            export_verify(file: u64) -> VerifyResponse;
            audit_events(req: EventsRequest) -> EventsResponse;
            audit_verify() -> ChainState;
        }
    };
}
