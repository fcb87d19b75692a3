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

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::Deserialize;
use serde_json::json;

use crate::directory::{User, UserId};
use crate::findings::{Finding, FindingKind, fingerprint};
use crate::glob::Glob;
use crate::policy::{Policy, Subject, Verdict};

/// A fast hasher for the scan's small integer keys (the default SipHash guards against
/// hash flooding, which keys made of ids and interned names cannot mount).
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(word));
        }
        for b in chunks.remainder() {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;
type FxSet<K> = HashSet<K, std::hash::BuildHasherDefault<Fx>>;

/// `s` as a number when it is one written the one way (digits, no leading zero): such ids
/// are compared as numbers, which a lookup does without following a pointer.
fn canonical_number(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    b.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// The resource ids a relation justifies for one person.
struct Justified<'a> {
    /// Those written as canonical numbers.
    numeric: FxSet<u64>,
    /// All of them, as written.
    text: &'a HashSet<String>,
}

impl Justified<'_> {
    fn contains(&self, id: &str) -> bool {
        match canonical_number(id) {
            Some(n) => self.numeric.contains(&n),
            None => self.text.contains(id),
        }
    }
}

/// Names seen in the log (actions, resource types), each kept once.
#[derive(Default)]
struct Names {
    ids: FxMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// At most this many evidence row ids are kept per finding (the count is always exact).
pub const EVIDENCE_IDS: usize = 1_000;

/// The detectors' thresholds, from the policy's `[detectors]` section.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detectors {
    pub enumeration: Enumeration,
    pub denied_burst: DeniedBurst,
    pub off_hours: OffHours,
    pub need_to_know: NeedToKnow,
    pub bulk_export: BulkExport,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Enumeration {
    pub window_minutes: u32,
    pub floor: u32,
    pub baseline_factor: f64,
    pub run: u32,
}

impl Default for Enumeration {
    fn default() -> Self {
        Self {
            window_minutes: 60,
            floor: 200,
            baseline_factor: 5.0,
            run: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeniedBurst {
    pub window_minutes: u32,
    pub count: u32,
}

impl Default for DeniedBurst {
    fn default() -> Self {
        Self {
            window_minutes: 10,
            count: 20,
        }
    }
}

/// Working hours: `hours` as `HH:MM-HH:MM`, `days` as three-letter names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    #[serde(default = "default_hours")]
    pub hours: String,
    #[serde(default = "default_days")]
    pub days: Vec<String>,
}

fn default_hours() -> String {
    "07:00-20:00".into()
}

fn default_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).into()
}

impl Default for Hours {
    fn default() -> Self {
        Self {
            hours: default_hours(),
            days: default_days(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OffHours {
    #[serde(flatten)]
    pub default: Hours,
    /// Working hours of a department, where they differ.
    pub department: HashMap<String, Hours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeedToKnow {
    /// Job functions whose access to a resource needs a relation to it.
    pub job_functions: Vec<String>,
    pub resource_type: String,
}

impl Default for NeedToKnow {
    fn default() -> Self {
        Self {
            job_functions: vec!["support".into(), "sales".into()],
            resource_type: "customer".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BulkExport {
    pub actions: Vec<Glob>,
    pub per_day: u32,
}

impl Default for BulkExport {
    fn default() -> Self {
        Self {
            actions: Glob::parse("**:export").into_iter().collect(),
            per_day: 3,
        }
    }
}

/// Working hours parsed: (start, end, days).
#[derive(Debug, Clone)]
struct Schedule {
    start: NaiveTime,
    end: NaiveTime,
    days: Vec<Weekday>,
}

impl Schedule {
    fn parse(h: &Hours) -> Result<Self, String> {
        let (a, b) = h
            .hours
            .split_once('-')
            .ok_or_else(|| format!("hours `{}`: expected HH:MM-HH:MM", h.hours))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| format!("hours `{}`: `{t}` is not HH:MM", h.hours))
        };
        let days = h
            .days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("days: `{d}` is not a day (mon, tue, …)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            start: time(a)?,
            end: time(b)?,
            days,
        })
    }

    fn working(&self, at: NaiveDateTime) -> bool {
        let t = at.time();
        self.days.contains(&at.weekday()) && t >= self.start && t < self.end
    }
}

impl Detectors {
    /// Checks what serde cannot: hours and days, positive thresholds.
    pub fn validate(&self) -> Result<(), String> {
        Schedule::parse(&self.off_hours.default).map_err(|e| format!("off_hours: {e}"))?;
        for (d, h) in &self.off_hours.department {
            Schedule::parse(h).map_err(|e| format!("off_hours.department.{d}: {e}"))?;
        }
        let e = &self.enumeration;
        if e.window_minutes == 0 || e.floor == 0 || e.run < 2 || e.baseline_factor <= 0.0 {
            return Err("enumeration: window_minutes, floor and baseline_factor must be positive, and run at least 2".into());
        }
        if self.denied_burst.window_minutes == 0 || self.denied_burst.count == 0 {
            return Err("denied_burst: window_minutes and count must be positive".into());
        }
        if self.bulk_export.per_day == 0 {
            return Err("bulk_export: per_day must be positive".into());
        }
        Ok(())
    }
}

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

/// A list that keeps its first few items inline: most windows and groups hold a row or
/// two, and an allocation per row would cost more than judging it.
#[derive(Debug, Clone)]
enum Few<T> {
    Inline(u8, [T; 3]),
    Heap(Vec<T>),
}

impl<T: Copy + Default> Default for Few<T> {
    fn default() -> Self {
        Few::Inline(0, [T::default(); 3])
    }
}

impl<T: Copy + Default> Few<T> {
    fn push(&mut self, v: T) {
        match self {
            Few::Inline(n, a) if usize::from(*n) < a.len() => {
                a[usize::from(*n)] = v;
                *n += 1;
            }
            Few::Inline(_, a) => {
                let mut heap = Vec::with_capacity(a.len() * 4);
                heap.extend_from_slice(a);
                heap.push(v);
                *self = Few::Heap(heap);
            }
            Few::Heap(h) => h.push(v),
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Few::Inline(n, a) => &a[..usize::from(*n)],
            Few::Heap(h) => h,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Few::Inline(n, a) => &mut a[..usize::from(*n)],
            Few::Heap(h) => h,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }
}

/// Rows grouped into one finding: how many, the first and last time, some ids.
#[derive(Debug, Clone)]
struct Group {
    count: u64,
    first: NaiveDateTime,
    last: NaiveDateTime,
    ids: Few<i64>,
}

impl Group {
    fn new(at: NaiveDateTime) -> Self {
        Self {
            count: 0,
            first: at,
            last: at,
            ids: Few::default(),
        }
    }

    fn add(&mut self, e: &Event<'_>) {
        self.count += 1;
        self.first = self.first.min(e.at);
        self.last = self.last.max(e.at);
        if self.ids.len() < EVIDENCE_IDS {
            self.ids.push(e.id);
        }
    }
}

/// One person's reads of one resource type in one window.
#[derive(Debug, Default)]
struct Window {
    /// Numeric ids read, repeats included until [`Window::distinct`] (or a growing list)
    /// sorts them out.
    numeric: Few<u64>,
    other: HashSet<String>,
    group: Option<Group>,
}

impl Window {
    fn read(&mut self, n: u64) {
        self.numeric.push(n);
        // A person re-reading the same few records keeps the list short.
        if let Few::Heap(h) = &mut self.numeric
            && h.len() >= 1_024
            && h.len().is_power_of_two()
        {
            h.sort_unstable();
            h.dedup();
        }
    }

    /// The numeric ids read, sorted and each once.
    fn distinct(&mut self) -> &[u64] {
        let ids = self.numeric.as_mut_slice();
        ids.sort_unstable();
        let mut kept = 0;
        for i in 0..ids.len() {
            if kept == 0 || ids[i] != ids[kept - 1] {
                ids[kept] = ids[i];
                kept += 1;
            }
        }
        &self.numeric.as_slice()[..kept]
    }
}

#[derive(Debug)]
struct Burst {
    recent: VecDeque<(NaiveDateTime, i64)>,
    open: Option<Group>,
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
    candidates: Vec<(UserId, u32, i64, u64, u64, Group)>,
    bursts: FxMap<UserId, Burst>,
    bursts_done: Vec<(UserId, Group)>,
    off_hours: FxMap<(UserId, NaiveDate), Group>,
    outside: FxMap<(UserId, u32), Group>,
    no_reason: FxMap<(UserId, NaiveDate), (Group, HashSet<String>)>,
    dormant: FxMap<(UserId, NaiveDate), Group>,
    exports: FxMap<(UserId, NaiveDate), Group>,
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
        let people: Vec<Person<'a>> = (facts.users.iter())
            .map(|user| Person {
                user,
                // Dormant when more than `dormancy_days` whole days have passed since the
                // last login: from the last login plus one more day than that.
                dormant_from: match user.last_login {
                    Some(l) if user.active => l
                        .checked_add_signed(chrono::Duration::days(dormancy_days + 1))
                        .unwrap_or(NaiveDateTime::MAX),
                    _ => NaiveDateTime::MIN,
                },
                memo: None,
                known: 0,
                granted: 0,
                relations: None,
            })
            .collect();
        let mut people = people;
        let mut justified = Vec::new();
        for p in &mut people {
            if let Some(text) = facts.relations.and_then(|r| r.get(&p.user.id)) {
                p.relations = Some(justified.len() as u32);
                justified.push(Justified {
                    numeric: text.iter().filter_map(|t| canonical_number(t)).collect(),
                    text,
                });
            }
        }
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
            crate::policy::Assignment::One(j) => {
                self.need_to_know_jobs.contains(&j.name.to_lowercase())
            }
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

    /// Whether the policy grants this person this action (memoized).
    fn grants(&mut self, person: usize, action: u32, name: &str) -> bool {
        let p = &self.people[person];
        let bit = 1u64.checked_shl(action).unwrap_or(0);
        if bit != 0 && p.known & bit != 0 {
            return p.granted & bit != 0;
        }
        let key = (p.user.id, action);
        if bit == 0
            && let Some(ok) = self.verdicts.get(&key)
        {
            return *ok;
        }
        let s = self.subject(p.user);
        let ok = matches!(self.facts.policy.judge_access(&s, name), Verdict::Allowed);
        let p = &mut self.people[person];
        if bit != 0 {
            p.known |= bit;
            if ok {
                p.granted |= bit;
            }
        } else {
            self.verdicts.insert(key, ok);
        }
        ok
    }

    fn subject(&self, user: &'a User) -> Subject<'a> {
        static NONE: Vec<String> = Vec::new();
        Subject {
            user,
            roles: self.facts.roles.get(&user.id).unwrap_or(&NONE),
        }
    }

    /// Feeds one row. Rows should come in id order (time order, give or take a window).
    pub fn push(&mut self, e: &Event<'_>) {
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

    fn denied(&mut self, e: &Event<'_>) {
        let cfg = &self.cfg.denied_burst;
        let span = chrono::Duration::minutes(i64::from(cfg.window_minutes));
        let b = self.bursts.entry(e.user).or_insert_with(|| Burst {
            recent: VecDeque::new(),
            open: None,
        });
        // A burst ends when a window passes without a refusal.
        if b.open.as_ref().is_some_and(|open| e.at - open.last > span)
            && let Some(done) = b.open.take()
        {
            self.bursts_done.push((e.user, done));
        }
        b.recent.push_back((e.at, e.id));
        while b.recent.front().is_some_and(|(t, _)| e.at - *t > span) {
            b.recent.pop_front();
        }
        match &mut b.open {
            Some(open) => open.add(e),
            None if b.recent.len() >= cfg.count as usize => {
                let mut g = Group::new(b.recent[0].0);
                for (at, id) in &b.recent {
                    g.add(&Event {
                        id: *id,
                        at: *at,
                        ..*e
                    });
                }
                b.open = Some(g);
            }
            None => {}
        }
    }

    /// Closes the windows up to `through`: each one's distinct count joins the person's
    /// typical window, and one over the floor or with a long run becomes a candidate.
    fn close_windows(&mut self, through: i64) {
        let closing: Vec<(UserId, u32, i64)> = (self.windows.keys())
            .filter(|(_, _, w)| *w <= through)
            .copied()
            .collect();
        for key in closing {
            let Some(mut w) = self.windows.remove(&key) else {
                continue;
            };
            let numeric = w.distinct();
            let (numeric, run) = (numeric.len() as u64, longest_run(numeric));
            let distinct = numeric + w.other.len() as u64;
            let t = self.typical.entry(key.0).or_insert((0, 0));
            t.0 += distinct;
            t.1 += 1;
            let cfg = &self.cfg.enumeration;
            if distinct < u64::from(cfg.floor) && numeric < u64::from(cfg.run) {
                continue; // neither over the floor nor long enough for a sweep
            }
            if (distinct >= u64::from(cfg.floor) || run >= u64::from(cfg.run))
                && let Some(g) = w.group
            {
                self.candidates
                    .push((key.0, key.1, key.2, distinct, run, g));
            }
        }
    }

    /// Ends the scan: every hit as a finding.
    pub fn finish(mut self) -> Vec<Finding> {
        self.close_windows(i64::MAX);
        let mut bursts = std::mem::take(&mut self.bursts_done);
        bursts.extend(
            std::mem::take(&mut self.bursts)
                .into_iter()
                .filter_map(|(u, b)| b.open.map(|g| (u, g))),
        );
        let mut out = Vec::new();
        let mut make = |kind: FindingKind,
                        user: UserId,
                        about: String,
                        detail: String,
                        fix: &str,
                        g: &Group,
                        extra: serde_json::Value| {
            let Some(u) = self.user(user) else {
                return;
            };
            let mut evidence = json!({
                "rows": g.ids.as_slice(),
                "count": g.count,
                "first": g.first.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "last": g.last.format("%Y-%m-%dT%H:%M:%S").to_string(),
            });
            if let (Some(e), serde_json::Value::Object(x)) = (evidence.as_object_mut(), extra) {
                e.extend(x);
            }
            out.push(Finding {
                kind,
                severity: kind.severity(),
                subject: u.login.clone(),
                subject_id: user,
                department: u.department.clone(),
                detail,
                evidence,
                fix: fix.to_string(),
                fingerprint: fingerprint(kind, user, &about),
            });
        };

        let cfg = &self.cfg.enumeration;
        for (user, rtype, window, distinct, run, g) in &self.candidates {
            let rtype = self.names.name(*rtype);
            let (sum, n) = self.typical.get(user).copied().unwrap_or((0, 0));
            // The person's typical window, this one left out.
            let typical = if n > 1 {
                (sum - distinct) as f64 / (n - 1) as f64
            } else {
                0.0
            };
            let over_floor = *distinct >= u64::from(cfg.floor)
                && *distinct as f64 >= cfg.baseline_factor * typical;
            let sweep = *run >= u64::from(cfg.run);
            if !(over_floor || sweep) {
                continue;
            }
            make(
                FindingKind::Enumeration,
                *user,
                format!("{rtype}/{window}"),
                format!(
                    "read {distinct} distinct {rtype} records within {} minutes ({}){}",
                    cfg.window_minutes,
                    g.first.format("%Y-%m-%d %H:%M"),
                    if sweep {
                        format!(", {run} consecutive ids in sequence")
                    } else {
                        String::new()
                    }
                ),
                "Ask the person and their manager what the reads were for; suspend the account if the answer is not convincing, and check whether the data left.",
                g,
                json!({ "resource_type": rtype, "distinct": distinct, "longest_run": run,
                        "typical_window": (typical * 10.0).round() / 10.0,
                        "window_minutes": cfg.window_minutes }),
            );
        }

        for (user, g) in &bursts {
            make(
                FindingKind::DeniedBurst,
                *user,
                g.first.format("%Y-%m-%dT%H:%M").to_string(),
                format!(
                    "{} refused accesses between {} and {}",
                    g.count,
                    g.first.format("%Y-%m-%d %H:%M"),
                    g.last.format("%H:%M")
                ),
                "Find out what the person was trying to reach: probing for data outside their role, or a broken client.",
                g,
                json!({ "window_minutes": self.cfg.denied_burst.window_minutes }),
            );
        }
        for ((user, day), g) in &self.off_hours {
            make(
                FindingKind::OffHours,
                *user,
                day.to_string(),
                format!(
                    "{} outside working hours on {} ({}, {}–{})",
                    accesses(g.count),
                    day,
                    day.weekday(),
                    g.first.format("%H:%M"),
                    g.last.format("%H:%M")
                ),
                "Confirm with the person's manager that the work was expected (on call, overtime).",
                g,
                json!({ "day": day.to_string() }),
            );
        }
        for ((user, action), g) in &self.outside {
            let action = self.names.name(*action);
            let held = self
                .facts
                .held
                .get(user)
                .is_some_and(|h| h.contains(action));
            make(
                FindingKind::OutsidePolicy,
                *user,
                action.to_string(),
                if held {
                    format!(
                        "used `{action}` {} times: held, but outside their baseline",
                        g.count
                    )
                } else {
                    format!(
                        "used `{action}` {} times without holding it: the application let it through",
                        g.count
                    )
                },
                if held {
                    "Revoke the access outside the baseline, or change the policy if the work needs it."
                } else {
                    "The application's authorization has a hole: report it to its developers and check what was read."
                },
                g,
                json!({ "permission": action, "held": held }),
            );
        }
        for ((user, day), (g, which)) in &self.no_reason {
            let mut which: Vec<&String> = which.iter().collect();
            which.sort();
            make(
                FindingKind::NoBusinessReason,
                *user,
                day.to_string(),
                format!(
                    "opened {} {} record{} with no ticket or account of theirs on {day}",
                    which.len(),
                    self.cfg.need_to_know.resource_type,
                    if which.len() == 1 { "" } else { "s" }
                ),
                "Ask why these records were opened; need-to-know allows only customers the person serves.",
                g,
                json!({ "day": day.to_string(), "resources": which }),
            );
        }
        for ((user, day), g) in &self.dormant {
            let u = self.user(*user);
            let why = match u {
                Some(u) if !u.active => format!("the account is {}", u.status),
                Some(u) => match u.last_login {
                    Some(l) => format!("last login {}", l.format("%Y-%m-%d")),
                    None => "never logged in".to_string(),
                },
                None => String::new(),
            };
            make(
                FindingKind::DormantActivity,
                *user,
                day.to_string(),
                format!("{} on {day}, yet {why}", accesses(g.count)),
                "Check whether the credentials are in someone else's hands; disable the account and rotate its secrets.",
                g,
                json!({ "day": day.to_string() }),
            );
        }
        for ((user, day), g) in &self.exports {
            if g.count < u64::from(self.cfg.bulk_export.per_day) {
                continue;
            }
            make(
                FindingKind::BulkExport,
                *user,
                day.to_string(),
                format!("{} exports on {day}", g.count),
                "Ask what the exports were for and where the files went.",
                g,
                json!({ "day": day.to_string(), "per_day": self.cfg.bulk_export.per_day }),
            );
        }
        out.sort_by(|a, b| {
            (a.kind.as_str(), &a.subject, &a.fingerprint).cmp(&(
                b.kind.as_str(),
                &b.subject,
                &b.fingerprint,
            ))
        });
        // A window reopened by a row that came late (ids not quite in time order) is the
        // same finding: one per fingerprint, its rows together.
        let mut merged: Vec<Finding> = Vec::with_capacity(out.len());
        for f in out {
            match merged.last_mut() {
                Some(last) if last.fingerprint == f.fingerprint => merge_rows(last, &f),
                _ => merged.push(f),
            }
        }
        merged
    }
}

/// Adds `other`'s evidence rows and count to `into` (the same finding, found twice).
fn merge_rows(into: &mut Finding, other: &Finding) {
    let rows = |f: &Finding| -> Vec<serde_json::Value> {
        f.evidence["rows"].as_array().cloned().unwrap_or_default()
    };
    let mut all = rows(into);
    all.extend(rows(other));
    all.truncate(EVIDENCE_IDS);
    let count = into.evidence["count"].as_u64().unwrap_or(0)
        + other.evidence["count"].as_u64().unwrap_or(0);
    if let Some(e) = into.evidence.as_object_mut() {
        e.insert("rows".into(), serde_json::Value::Array(all));
        e.insert("count".into(), json!(count));
    }
}

fn accesses(n: u64) -> String {
    format!("{n} access{}", if n == 1 { "" } else { "es" })
}

/// The longest run of consecutive integers among `ids` (sorted in place).
/// The longest run of consecutive ids in sorted `ids`.
fn longest_run(ids: &[u64]) -> u64 {
    let (mut best, mut run) = (0u64, 0u64);
    let mut prev: Option<u64> = None;
    for &n in ids.iter() {
        run = match prev {
            Some(p) if n == p + 1 => run + 1,
            Some(p) if n == p => run,
            _ => 1,
        };
        best = best.max(run);
        prev = Some(n);
    }
    best
}

#[cfg(test)]
mod tests;
