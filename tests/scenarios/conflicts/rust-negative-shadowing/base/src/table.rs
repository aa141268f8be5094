//! Plain-text tables.

fn width() -> usize {
    80
}

pub fn rule() -> String {
    "-".repeat(width())
}

pub fn center(text: &str) -> String {
    format!("{:^w$}", text, w = width())
}
