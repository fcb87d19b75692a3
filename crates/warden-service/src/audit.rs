//! The audit trail's own integrity (DESIGN.md, Audit trail).

use warden_core::audit::Verification;

use crate::context::Ctx;
use crate::error::Result;

/// Recomputes the audit trail's hash chain from its first event and compares its end with
/// the head Warden recorded: the first sequence number where the stored trail is not the
/// one Warden wrote, and why. Officers and auditors.
pub async fn verify(ctx: &Ctx) -> Result<Verification> {
    let r = ctx.as_reader("verifying the audit trail")?;
    let db = r.db();
    let (events, (head_seq, head_hash)) = futures_util::try_join!(
        warden_store::governance::audit_events(db),
        warden_store::governance::audit_head(db),
    )?;
    let checked = warden_core::audit::verify(&events, (head_seq, &head_hash));
    if !checked.ok {
        tracing::warn!(
            first_bad_seq = checked.first_bad_seq,
            reason = checked.reason.as_deref().unwrap_or_default(),
            "the audit trail does not verify"
        );
    }
    Ok(checked)
}
