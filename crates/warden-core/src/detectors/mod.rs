//! Access-log detectors (DESIGN.md, Access logs): one pass over the log in id order, each
//! detector a small state machine, each hit a [`Finding`] carrying the ids of the rows
//! that are its evidence. Pure: the store streams the rows, the service records the hits.
//!
//! Every threshold is a heuristic, configurable in the policy's `[detectors]` section (so
//! it is versioned with the policy) and documented here with its default:
//!
//! - **enumeration**: in a window (60 minutes), a person reads more distinct resources of
//!   one type than a floor (200) *and* than a factor (5) times their own typical window in
//!   the scan; or a run of consecutive numeric ids (50) in one window, a sequential sweep.
//! - **denied_burst**: `count` (20) refusals within `window_minutes` (10).
//! - **off_hours**: an access outside working hours (07:00–20:00, Monday to Friday, in the
//!   log's own time), per department where configured; one finding per person and day.
//! - **outside_policy**: an *allowed* access to a permission the policy does not give the
//!   person: a hole in the backend's authorization (or access held outside the baseline).
//! - **no_business_reason** (need-to-know): a person of the configured job functions
//!   (support and sales by default) opens a resource of `resource_type` (customer) with no
//!   relation to it (a ticket assigned to them, an account they own: the mapping names the
//!   relations); one finding per person and day.
//! - **dormant_activity**: activity of an inactive account, or of one whose last login is
//!   older than the policy's dormancy (90 days) before the access; per person and day.
//! - **bulk_export**: `per_day` (3) or more accesses whose action matches `actions`
//!   (`**:export`) by one person in a day.

mod bulk_export;
mod bursts;
mod dormant;
mod enumeration;
mod evidence;
mod fx;
mod names;
mod need_to_know;
mod off_hours;
mod outside_policy;

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};

use crate::directory::{User, UserId};
use crate::findings::Finding;
use crate::policy::{Assignment, Policy, Subject};
use crate::vocabulary::Schedule;
use bursts::Burst;
use enumeration::{Candidate, Window};
use evidence::Group;
use fx::FxMap;
use names::Names;
use need_to_know::Justified;

pub use crate::vocabulary::{
    BulkExport, DeniedBurst, Detectors, Enumeration, Hours, NeedToKnow, OffHours,
};
pub use evidence::EVIDENCE_IDS;
pub use fx::Fx;

/// One access-log row, as the detectors see it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub id: i64,
    pub at: NaiveDateTime,
    pub user: UserId,
    pub action: &'a str,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub allowed: bool,
    /// Not judged by an earlier scan (set by [`Scan::push`] from [`Scan::resume`]): a row
    /// re-read for context adds to windows and groups, but not again to a known
    /// finding's count.
    pub fresh: bool,
}

/// What earlier scans judged: rows up to `through`, but for the ids that were missing
/// then (`gaps`: a transaction that committed after the scan read past its id).
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub through: i64,
    pub gaps: HashSet<i64>,
}

impl Judged {
    pub fn is_new(&self, id: i64) -> bool {
        id > self.through || self.gaps.contains(&id)
    }
}

/// What the detectors know besides the log.
pub struct Facts<'a> {
    pub policy: &'a Policy,
    pub users: &'a [User],
    /// Role names per person (for the policy's `match = { role }`).
    pub roles: &'a HashMap<UserId, Vec<String>>,
    /// Permission keys each person holds (any way): says whether an access outside
    /// policy was even held.
    pub held: &'a HashMap<UserId, HashSet<String>>,
    /// The resource ids a relation justifies, per person, when the mapping has relations.
    pub relations: Option<&'a HashMap<UserId, HashSet<String>>>,
}

/// What the scan needs of a person, looked up once.
#[derive(Debug, Clone, Copy)]
struct PersonMemo {
    schedule: usize,
    need_to_know: bool,
}

/// A person's row of what every log row of theirs consults, together in one place: the
/// scan is bound by memory lookups, and one per row is what it can afford.
struct Person<'a> {
    user: &'a User,
    /// From this time on the account counts as dormant (the earliest time when it is
    /// inactive or has never logged in).
    dormant_from: NaiveDateTime,
    memo: Option<PersonMemo>,
    /// Access-outside-policy verdicts for action ids below 64: which are known, and which
    /// of those the policy grants. Higher ids use `Scan::verdicts`.
    known: u64,
    granted: u64,
    /// Where the resource ids a relation justifies for this person are (`Scan::justified`).
    relations: Option<u32>,
}

/// A scan in progress: feed it rows in id order with [`Scan::push`], then [`Scan::finish`].
pub struct Scan<'a> {
    facts: Facts<'a>,
    by_id: FxMap<UserId, u32>,
    people: Vec<Person<'a>>,
    justified: Vec<Justified<'a>>,
    cfg: &'a Detectors,
    /// Working hours: the default first, then each configured department's.
    schedules: Vec<Schedule>,
    departments: HashMap<String, usize>,
    need_to_know_jobs: HashSet<String>,
    names: Names,
    // Per-person and per-action judgements, memoized.
    verdicts: FxMap<(UserId, u32), bool>,
    exported: Vec<Option<bool>>,
    need_to_know_type: Option<u32>,
    // Enumeration: open windows, and every closed window's distinct count per person.
    windows: FxMap<(UserId, u32, i64), Window>,
    newest_window: i64,
    typical: FxMap<UserId, (u64, u64)>,
    candidates: Vec<Candidate>,
    bursts: FxMap<UserId, Burst>,
    bursts_done: Vec<(UserId, Group)>,
    off_hours: FxMap<(UserId, NaiveDate), Group>,
    outside: FxMap<(UserId, u32), Group>,
    no_reason: FxMap<(UserId, NaiveDate), (Group, HashSet<String>)>,
    dormant: FxMap<(UserId, NaiveDate), Group>,
    exports: FxMap<(UserId, NaiveDate), Group>,
    /// Set by [`Scan::resume`]: which rows earlier scans judged.
    judged: Option<Judged>,
    pub scanned: u64,
}

impl<'a> Scan<'a> {
    pub fn new(facts: Facts<'a>) -> Result<Self, String> {
        let cfg = &facts.policy.detectors;
        cfg.validate()?;
        let mut schedules = vec![Schedule::parse(&cfg.off_hours.default)?];
        let mut departments = HashMap::new();
        for (d, h) in &cfg.off_hours.department {
            departments.insert(d.to_lowercase(), schedules.len());
            schedules.push(Schedule::parse(h)?);
        }
        let mut names = Names::default();
        let need_to_know_type = facts
            .relations
            .map(|_| names.id(&cfg.need_to_know.resource_type.to_lowercase()));
        let dormancy_days = i64::from(facts.policy.dormancy.as_ref().map_or(90, |d| d.days));
        let mut people: Vec<Person<'a>> = (facts.users.iter())
            .map(|user| Person {
                user,
                dormant_from: dormant::dormant_from(user, dormancy_days),
                memo: None,
                known: 0,
                granted: 0,
                relations: None,
            })
            .collect();
        let justified = need_to_know::justified(facts.relations, &mut people);
        Ok(Self {
            justified,
            by_id: (people.iter().enumerate())
                .map(|(i, p)| (p.user.id, i as u32))
                .collect(),
            people,
            cfg,
            schedules,
            departments,
            need_to_know_jobs: (cfg.need_to_know.job_functions.iter())
                .map(|j| j.to_lowercase())
                .collect(),
            facts,
            names,
            verdicts: FxMap::default(),
            exported: Vec::new(),
            need_to_know_type,
            windows: FxMap::default(),
            newest_window: i64::MIN,
            typical: FxMap::default(),
            candidates: Vec::new(),
            bursts: FxMap::default(),
            bursts_done: Vec::new(),
            off_hours: FxMap::default(),
            outside: FxMap::default(),
            no_reason: FxMap::default(),
            dormant: FxMap::default(),
            exports: FxMap::default(),
            judged: None,
            scanned: 0,
        })
    }

    fn memo(&mut self, person: usize) -> PersonMemo {
        let user = self.people[person].user;
        if let Some(m) = self.people[person].memo {
            return m;
        }
        let schedule = (user.department.as_deref())
            .and_then(|d| self.departments.get(&d.to_lowercase()).copied())
            .unwrap_or(0);
        let s = self.subject(user);
        let need_to_know = match self.facts.policy.assign(&s) {
            Assignment::One(j) => self.need_to_know_jobs.contains(&j.name.to_lowercase()),
            _ => false,
        };
        let m = PersonMemo {
            schedule,
            need_to_know,
        };
        self.people[person].memo = Some(m);
        m
    }

    fn user(&self, id: UserId) -> Option<&'a User> {
        let i = *self.by_id.get(&id)?;
        Some(self.people[i as usize].user)
    }

    fn subject(&self, user: &'a User) -> Subject<'a> {
        static NONE: Vec<String> = Vec::new();
        Subject {
            user,
            roles: self.facts.roles.get(&user.id).unwrap_or(&NONE),
        }
    }

    /// A scan that re-reads a trailing overlap of rows earlier scans judged, so that late
    /// rows and windows straddling two scans are judged whole: rows `judged` says were
    /// judged count as context (see [`Event::fresh`]).
    pub fn resume(&mut self, judged: Judged) {
        self.judged = Some(judged);
    }

    /// Feeds one row. Rows should come in id order (time order, give or take a window).
    pub fn push(&mut self, e: &Event<'_>) {
        let e = &Event {
            fresh: self.judged.as_ref().is_none_or(|j| j.is_new(e.id)),
            ..*e
        };
        self.scanned += 1;
        let Some(&person) = self.by_id.get(&e.user) else {
            return; // a row of someone not in the directory: nothing to judge it by
        };
        let person = person as usize;
        let day = e.at.date();

        // Dormant or inactive account at work.
        let dormant = e.at >= self.people[person].dormant_from;
        if dormant {
            self.dormant
                .entry((e.user, day))
                .or_insert_with(|| Group::new(e.at))
                .add(e);
        }

        // Off hours, by the person's department.
        let memo = self.memo(person);
        if !self.schedules[memo.schedule].working(e.at) {
            self.off_hours
                .entry((e.user, day))
                .or_insert_with(|| Group::new(e.at))
                .add(e);
        }

        // Bulk exports.
        let action = self.names.id(e.action);
        let exported = match self.exported.get(action as usize).copied().flatten() {
            Some(x) => x,
            None => {
                let x = (self.cfg.bulk_export.actions.iter()).any(|g| g.matches(e.action));
                if self.exported.len() <= action as usize {
                    self.exported.resize(action as usize + 1, None);
                }
                self.exported[action as usize] = Some(x);
                x
            }
        };
        if exported {
            self.exports
                .entry((e.user, day))
                .or_insert_with(|| Group::new(e.at))
                .add(e);
        }

        if e.allowed {
            self.allowed(person, e, action, memo);
        } else {
            self.denied(e);
        }
    }

    fn allowed(&mut self, person: usize, e: &Event<'_>, action: u32, memo: PersonMemo) {
        // Access outside policy.
        if !self.grants(person, action, e.action) {
            self.outside
                .entry((e.user, action))
                .or_insert_with(|| Group::new(e.at))
                .add(e);
        }

        let (Some(rtype), Some(rid)) = (e.resource_type, e.resource_id) else {
            return;
        };
        let rtype = if rtype.bytes().any(|b| b.is_ascii_uppercase()) {
            self.names.id(&rtype.to_ascii_lowercase())
        } else {
            self.names.id(rtype)
        };
        // Need-to-know.
        if self.facts.relations.is_some()
            && memo.need_to_know
            && Some(rtype) == self.need_to_know_type
            && !(self.people[person].relations)
                .is_some_and(|i| self.justified[i as usize].contains(rid))
        {
            let (g, which) = self
                .no_reason
                .entry((e.user, e.at.date()))
                .or_insert_with(|| (Group::new(e.at), HashSet::new()));
            g.add(e);
            if which.len() < EVIDENCE_IDS {
                which.insert(rid.to_string());
            }
        }

        // Enumeration: this window's distinct resources.
        let minutes = i64::from(self.cfg.enumeration.window_minutes);
        let window = e.at.and_utc().timestamp() / 60 / minutes;
        if window > self.newest_window {
            self.newest_window = window;
            self.close_windows(window - 1);
        }
        let w = self.windows.entry((e.user, rtype, window)).or_default();
        match rid.parse::<u64>() {
            Ok(n) => w.read(n),
            Err(_) => {
                if !w.other.contains(rid) {
                    w.other.insert(rid.to_string());
                }
            }
        }
        w.group.get_or_insert_with(|| Group::new(e.at)).add(e);
    }

    /// Ends the scan: every hit as a finding.
    pub fn finish(mut self) -> Vec<Finding> {
        self.close_windows(i64::MAX);
        let bursts = self.take_bursts();
        let found = [
            self.enumeration_findings(),
            self.denied_burst_findings(&bursts),
            self.off_hours_findings(),
            self.outside_policy_findings(),
            self.no_business_reason_findings(),
            self.dormant_activity_findings(),
            self.bulk_export_findings(),
        ];
        evidence::one_per_fingerprint(found.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests;
