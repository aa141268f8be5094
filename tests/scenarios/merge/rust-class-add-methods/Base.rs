struct Shelf {
    base: i32,
}

impl Shelf {
    fn count(&self) -> i32 {
        let value = self.base + 1;
        value
    }

    fn total(&self) -> i32 {
        let value = self.base + 2;
        value
    }
}
