//! Orders and their totals.

pub struct Line {
    pub price_cents: u32,
    pub qty: u32,
}

pub struct Order {
    pub lines: Vec<Line>,
}

impl Order {
    pub fn total(&self) -> u32 {
        self.lines.iter().map(|l| l.price_cents * l.qty).sum()
    }
}

pub fn total(lines: &[Line]) -> u32 {
    lines.iter().map(|l| l.price_cents * l.qty).sum()
}

pub fn describe(order: &Order) -> String {
    format!("{} lines, {} cents", order.lines.len(), order.total())
}
