use crate::cache::Lru;

/// Answers lookups from a cache.
pub struct Server {
    cache: Lru,
    misses: u64,
}

impl Server {
    pub fn new(capacity: usize) -> Self {
        Server { cache: Lru::new(capacity), misses: 0 }
    }

    pub fn misses(&self) -> u64 {
        self.misses
    }
}
