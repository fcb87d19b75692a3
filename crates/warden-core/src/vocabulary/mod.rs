//! The words the rest of the crate shares: finding kinds, severities and statuses, and the
//! detectors' thresholds. Policies, findings and the detectors all use them, so they live
//! below all three and import none of them; that keeps the modules' imports from running
//! in a circle.

mod kinds;
mod thresholds;

pub use kinds::{FindingKind, FindingStatus, Severity, Triage};
pub(crate) use thresholds::Schedule;
pub use thresholds::{
    BulkExport, DeniedBurst, Detectors, Enumeration, Hours, NeedToKnow, OffHours,
};
