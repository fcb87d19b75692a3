//! Access-log review (DESIGN.md, Access logs): scanning the application's log with the
//! detectors from the last checkpoint, searching it a page at a time, importing database
//! audit-log files, and the timeline.

mod ingest;
mod scan;
mod search;
mod timeline;

pub use ingest::{IngestResponse, Problem, Progress, ingest, ingest_with};
pub use scan::{ScanResponse, scan};
pub use search::{LogRowView, MAX_PAGE, SearchRequest, SearchResponse, search};
pub(crate) use search::{parse_time, plan};
pub use timeline::{TableStatus, TimelinePoint, TimelineResponse, table_status, timeline};
