//! A small least-recently-used cache.

use std::collections::HashMap;

/// Keeps at most `capacity` values, dropping the least recently used.
pub struct Lru {
    capacity: usize,
    tick: u64,
    items: HashMap<String, (u64, Vec<u8>)>,
}

impl Lru {
    pub fn new(capacity: usize) -> Self {
        Lru { capacity, tick: 0, items: HashMap::new() }
    }

    pub fn get(&mut self, key: &str) -> Option<&Vec<u8>> {
        self.tick += 1;
        let tick = self.tick;
        match self.items.get_mut(key) {
            Some(entry) => {
                entry.0 = tick;
                Some(&entry.1)
            }
            None => None,
        }
    }

    pub fn insert(&mut self, key: &str, value: Vec<u8>) {
        self.tick += 1;
        if self.items.len() >= self.capacity && !self.items.contains_key(key) {
            let oldest = self.items.iter().min_by_key(|(_, v)| v.0).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.items.remove(&oldest);
            }
        }
        self.items.insert(key.to_string(), (self.tick, value));
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }
}
