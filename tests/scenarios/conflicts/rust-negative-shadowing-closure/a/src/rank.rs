/// Weight of a word in a search result.
pub fn weight(word: &str) -> u32 {
    word.len() as u32
}

pub fn best(words: &[&str]) -> Option<String> {
    words.iter().max_by_key(|w| weight(w)).map(|w| w.to_string())
}
