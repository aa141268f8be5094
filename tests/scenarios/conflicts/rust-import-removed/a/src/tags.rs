/// The distinct tags of a post, in first-seen order.
pub fn distinct(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}
