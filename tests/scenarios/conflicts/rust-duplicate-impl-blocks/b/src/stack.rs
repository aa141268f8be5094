/// A stack of parsed tokens.
pub struct Stack {
    items: Vec<String>,
}

impl Stack {
    pub fn push(&mut self, item: String) {
        self.items.push(item);
    }

    pub fn pop(&mut self) -> Option<String> {
        self.items.pop()
    }
}

impl Stack {
    pub fn peek(&self) -> Option<&String> {
        self.items.last()
    }

    pub fn len(&self) -> usize {
        self.items.iter().count()
    }
}
