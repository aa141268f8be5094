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

<<<<<<< left
||||||| base
impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}
=======
impl Default for Counter {
    fn default() -> Self {
        Counter { count: 1 }
    }
}
>>>>>>> right

pub fn start() -> Counter {
    Counter::default()
}
