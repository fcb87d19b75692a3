//! Who-has-what over time: each check keeps a compact snapshot of every grant, and a grant
//! that appears between two checks without a review is a finding (`grant_outside_review`).
//!
//! A snapshot is the sorted set of grants, delta- and varint-encoded: about three bytes a
//! grant, so 100,000 staff cost a few hundred kilobytes a check.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::directory::{DirectGrant, PermissionId, RoleGrant, RoleId, User, UserId};
use crate::findings::{Finding, FindingKind, fingerprint};

/// One grant a user holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Held {
    Role(UserId, RoleId),
    Direct(UserId, PermissionId),
}

impl Held {
    fn parts(self) -> (i64, u8, i64) {
        match self {
            Held::Role(u, r) => (u.0, 0, r.0),
            Held::Direct(u, p) => (u.0, 1, p.0),
        }
    }

    pub fn user(self) -> UserId {
        UserId(self.parts().0)
    }
}

/// Every grant at one moment, sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    held: Vec<Held>,
}

const FORMAT: u8 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| format!("snapshot ends inside a number at byte {}", self.at))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!(
            "snapshot has an overlong number at byte {}",
            self.at
        ))
    }
}

impl Snapshot {
    pub fn of(grants: &[RoleGrant], direct: &[DirectGrant]) -> Self {
        let mut held: Vec<Held> = grants.iter().map(|g| Held::Role(g.user, g.role)).collect();
        held.extend(direct.iter().map(|d| Held::Direct(d.user, d.permission)));
        held.sort_unstable();
        held.dedup();
        Self { held }
    }

    pub fn held(&self) -> &[Held] {
        &self.held
    }

    pub fn contains(&self, h: &Held) -> bool {
        self.held.binary_search(h).is_ok()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![FORMAT];
        put_varint(&mut out, self.held.len() as u64);
        let mut prev_user = 0i64;
        for h in &self.held {
            let (user, tag, object) = h.parts();
            put_varint(&mut out, zigzag(user.wrapping_sub(prev_user)));
            out.push(tag);
            put_varint(&mut out, zigzag(object));
            prev_user = user;
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        match bytes.first() {
            Some(&FORMAT) => {}
            Some(v) => return Err(format!("snapshot format {v} is not known")),
            None => return Err("the snapshot is empty".into()),
        }
        let mut r = Reader { bytes, at: 1 };
        let count = r.varint()?;
        let mut held: Vec<Held> =
            Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(bytes.len()));
        let mut user = 0i64;
        for _ in 0..count {
            user = user.wrapping_add(unzigzag(r.varint()?));
            let tag = *bytes.get(r.at).ok_or("snapshot ends inside a grant")?;
            r.at += 1;
            let object = unzigzag(r.varint()?);
            let h = match tag {
                0 => Held::Role(UserId(user), RoleId(object)),
                1 => Held::Direct(UserId(user), PermissionId(object)),
                t => return Err(format!("snapshot has an unknown grant tag {t}")),
            };
            if held.last().is_some_and(|last| *last >= h) {
                return Err("snapshot grants are out of order".into());
            }
            held.push(h);
        }
        if r.at != bytes.len() {
            return Err("snapshot has bytes after its last grant".into());
        }
        Ok(Self { held })
    }
}

/// The grant's fingerprint subject, for `grant_outside_review`.
fn about(h: Held) -> String {
    match h {
        Held::Role(_, r) => format!("role:{r}"),
        Held::Direct(_, p) => format!("direct:{p}"),
    }
}

/// Names of what the findings talk about.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub users: &'a [User],
    pub role_names: &'a HashMap<RoleId, String>,
    pub permission_keys: &'a HashMap<PermissionId, String>,
    pub grants: &'a [RoleGrant],
}

/// Grants that appeared since the previous snapshot, plus those found earlier that are
/// still held and still open (`open`: their fingerprints by person), so such a grant stays
/// a finding until someone triages it or it is revoked. `reviewed` says whether a grant was made
/// through a review or an access request.
pub fn grants_outside_review(
    previous: &Snapshot,
    current: &Snapshot,
    open: &HashMap<UserId, HashSet<String>>,
    names: Names<'_>,
    reviewed: impl Fn(Held) -> bool,
) -> Vec<Finding> {
    let users: HashMap<UserId, &User> = names.users.iter().map(|u| (u.id, u)).collect();
    let granted: HashMap<(UserId, RoleId), &RoleGrant> =
        names.grants.iter().map(|g| ((g.user, g.role), g)).collect();
    current
        .held
        .iter()
        .filter_map(|h| {
            let is_new = !previous.contains(h);
            let open_for = open.get(&h.user());
            if !is_new && open_for.is_none() {
                return None;
            }
            let user = users.get(&h.user())?;
            let fp = fingerprint(FindingKind::GrantOutsideReview, user.id, &about(*h));
            if !(is_new && !reviewed(*h) || open_for.is_some_and(|o| o.contains(&fp))) {
                return None;
            }
            let (what, evidence) = match h {
                Held::Role(u, r) => {
                    let name = names
                        .role_names
                        .get(r)
                        .cloned()
                        .unwrap_or_else(|| format!("#{r}"));
                    let g = granted.get(&(*u, *r));
                    let by = g
                        .and_then(|g| g.granted_by)
                        .and_then(|b| users.get(&b))
                        .map(|b| b.login.clone());
                    let at = g.and_then(|g| g.granted_at);
                    (
                        format!("role {name}"),
                        json!({ "role": name, "granted_at": at, "granted_by": by }),
                    )
                }
                Held::Direct(_, p) => {
                    let key = names
                        .permission_keys
                        .get(p)
                        .cloned()
                        .unwrap_or_else(|| format!("#{p}"));
                    (format!("direct `{key}`"), json!({ "permission": key }))
                }
            };
            let when = evidence["granted_at"]
                .as_str()
                .map(|t| format!(" on {}", t.get(..10).unwrap_or(t)))
                .unwrap_or_else(|| " since the previous check".into());
            let by = evidence["granted_by"]
                .as_str()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default();
            Some(Finding {
                kind: FindingKind::GrantOutsideReview,
                severity: FindingKind::GrantOutsideReview.severity(),
                subject: user.login.clone(),
                subject_id: user.id,
                department: user.department.clone(),
                detail: format!("was granted {what}{when}{by}, outside any review or request"),
                evidence,
                fix: format!(
                    "confirm {what} with {}'s manager and record why, or revoke it",
                    user.login
                ),
                fingerprint: fp,
                new_rows: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip_and_are_compact() {
        let grants: Vec<RoleGrant> = (1..=10_000)
            .map(|u| RoleGrant {
                user: UserId(u),
                role: RoleId(u % 12 + 1),
                granted_at: None,
                granted_by: None,
                scope: Default::default(),
                key: None,
            })
            .collect();
        let direct = [DirectGrant {
            user: UserId(7),
            permission: PermissionId(-3),
            scope: Default::default(),
        }];
        let snap = Snapshot::of(&grants, &direct);
        let bytes = snap.encode();
        assert!(bytes.len() < 10_001 * 4, "{} bytes", bytes.len());
        assert_eq!(Snapshot::decode(&bytes).unwrap(), snap);
    }

    #[test]
    fn damaged_snapshots_are_errors_not_panics() {
        let snap = Snapshot::of(
            &[RoleGrant {
                user: UserId(300),
                role: RoleId(2),
                granted_at: None,
                granted_by: None,
                scope: Default::default(),
                key: None,
            }],
            &[],
        );
        let bytes = snap.encode();
        for cut in 0..bytes.len() {
            assert!(Snapshot::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Snapshot::decode(&extra).is_err());
        assert!(Snapshot::decode(&[9, 0]).unwrap_err().contains("format 9"));
    }

    fn user(id: i64) -> User {
        User {
            id: UserId(id),
            login: format!("u{id}"),
            name: None,
            email: None,
            department: Some("support".into()),
            title: None,
            manager_id: None,
            manager: None,
            status: "active".into(),
            active: true,
            superuser: false,
            mfa: None,
            last_login: None,
            created: None,
        }
    }

    #[test]
    fn new_grants_are_found_and_stay_found_while_open() {
        let users = [user(1), user(2)];
        let role_names = HashMap::from([
            (RoleId(1), "agent".to_string()),
            (RoleId(2), "billing".to_string()),
        ]);
        let permission_keys = HashMap::new();
        let g = |u, r| RoleGrant {
            user: UserId(u),
            role: RoleId(r),
            granted_at: None,
            granted_by: Some(UserId(2)),
            scope: Default::default(),
            key: None,
        };
        let before = [g(1, 1), g(2, 1)];
        let after = [g(1, 1), g(1, 2), g(2, 1)];
        let names = Names {
            users: &users,
            role_names: &role_names,
            permission_keys: &permission_keys,
            grants: &after,
        };
        let prev = Snapshot::of(&before, &[]);
        let cur = Snapshot::of(&after, &[]);
        let none = HashMap::new();
        let found = grants_outside_review(&prev, &cur, &none, names, |_| false);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subject, "u1");
        assert!(found[0].detail.contains("role billing") && found[0].detail.contains("by u2"));
        // A reviewed grant is not a finding.
        assert!(grants_outside_review(&prev, &cur, &none, names, |_| true).is_empty());
        // On the next check it is no longer new, but while open it is still found.
        let open = HashMap::from([(UserId(1), HashSet::from([found[0].fingerprint.clone()]))]);
        let again = grants_outside_review(&cur, &cur, &open, names, |_| false);
        assert_eq!(again, found);
        assert!(grants_outside_review(&cur, &cur, &none, names, |_| false).is_empty());
        // Revoked: gone, open or not.
        let revoked = Snapshot::of(&before, &[]);
        assert!(grants_outside_review(&cur, &revoked, &open, names, |_| false).is_empty());
    }
}
