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

    pub fn fetch(&mut self, key: &str) -> Option<Vec<u8>> {
        let found = self.cache.get(key).cloned();
        if found.is_none() {
            self.misses += 1;
        }
        found
    }

    pub fn misses(&self) -> u64 {
        self.misses
    }
}
