use std::collections::HashSet;

/// The distinct tags of a post, in first-seen order.
pub fn distinct(tags: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    tags.iter().filter(|t| seen.insert(t.as_str())).cloned().collect()
}
