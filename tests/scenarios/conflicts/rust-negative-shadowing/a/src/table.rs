//! Plain-text tables.

const WIDTH: usize = 80;

pub fn rule() -> String {
    "-".repeat(WIDTH)
}

pub fn center(text: &str) -> String {
    format!("{:^w$}", text, w = WIDTH)
}
