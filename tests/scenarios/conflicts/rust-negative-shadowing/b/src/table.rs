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

pub fn row(cells: &[&str]) -> String {
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0);
    cells.iter().map(|c| format!("{:<width$}", c, width = width)).collect::<Vec<_>>().join(" | ")
}
