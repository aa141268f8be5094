/// Hit and miss counters.
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
}

impl Stats {
    pub fn clear(&mut self) {
        self.hits = 0;
        self.misses = 0;
    }
}
