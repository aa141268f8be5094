pub struct Counter {
    count: u32,
}

impl Counter {
    pub fn new() -> Self {
        Counter { count: 0 }
    }

    pub fn bump(&mut self) {
        self.count += 1;
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

pub fn start() -> Counter {
    Counter::new()
}
