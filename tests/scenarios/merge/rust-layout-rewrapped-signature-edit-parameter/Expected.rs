use std::collections::HashMap;

pub fn summarize(totals: &HashMap<String, u64>, currency: &str, rounding: u8) -> String {
    let sum: u64 = totals.values().sum();
    format!("{} {} ({})", sum, currency, rounding as u32)
}

pub fn empty() -> HashMap<String, u64> {
    HashMap::new()
}
