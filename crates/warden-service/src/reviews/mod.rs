//! Access reviews: launching a campaign over every grant in scope, and reviewers deciding
//! their items exactly once.

mod close;
mod decide;
mod items;
mod launch;
mod progress;

pub use close::{
    CloseResponse, RevocationView, SkippedRow, UndoResponse, close, close_as_previewed,
    undo_remediation,
};
pub use decide::{
    DecideRequest, DecideResponse, ItemView, ItemsRequest, ItemsResponse, ReassignRequest,
    ReassignResponse, decide, items, reassign, reassign_queue,
};
pub use launch::{Scope, StartRequest, Started, start, start_like};
pub use progress::{
    CampaignDetail, CampaignList, CampaignView, Progress, REMIND_DAYS, Reminder, list, reminders,
    show,
};
