/// Weight of a word in a search result.
pub fn score(word: &str) -> u32 {
    word.len() as u32
}

pub fn best(words: &[&str]) -> Option<String> {
    words.iter().max_by_key(|w| score(w)).map(|w| w.to_string())
}

pub fn total(words: &[&str]) -> u32 {
    let score = |w: &str| w.chars().filter(|c| c.is_uppercase()).count() as u32;
    words.iter().map(|w| score(w)).sum()
}
