//! A bounded stack of job ids.

pub struct Stack {
    items: Vec<u64>,
    capacity: usize,
}

impl Stack {
    pub fn new(capacity: usize) -> Self {
        Stack { items: Vec::with_capacity(capacity), capacity }
    }

    pub fn push(&mut self, item: u64) -> Result<(), u64> {
        if self.items.len() == self.capacity {
            return Err(item);
        }
        self.items.push(item);
        Ok(())
    }

    pub fn peek(&self) -> Option<u64> {
        self.items.last().copied()
    }
}
