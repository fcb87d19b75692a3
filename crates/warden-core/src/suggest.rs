//! "Did you mean …?" for names that do not exist.

/// Levenshtein distance over chars, case-insensitive.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `wanted`, if it is close enough to be a plausible typo.
pub fn closest<'a, I>(wanted: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (wanted.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(wanted, c), c))
        .filter(|(d, c)| *d <= limit || c.to_lowercase().contains(&wanted.to_lowercase()))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("last_logn", "last_login"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("Users", "users"), 0);
    }

    #[test]
    fn suggests_the_typo_fix_and_nothing_far_away() {
        let cols = ["id", "last_login", "email", "username"];
        assert_eq!(closest("last_logn", cols), Some("last_login"));
        assert_eq!(closest("emial", cols), Some("email"));
        assert_eq!(closest("department", cols), None);
    }
}
