use std::collections::HashSet;

/// The distinct tags of a post, in first-seen order.
pub fn distinct(tags: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    tags.iter().filter(|t| seen.insert(t.as_str())).cloned().collect()
}

/// Tags both posts have.
pub fn common(a: &[String], b: &[String]) -> usize {
    let left: HashSet<&String> = a.iter().collect();
    b.iter().filter(|t| left.contains(t)).count()
}
