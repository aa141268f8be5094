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

pub fn reset_stats(stats: &mut Stats) {
    stats.clear();
}
