use std::{
    collections::HashMap,
    fmt,
    io,
};

pub fn describe(map: &HashMap<String, u32>) -> String {
    format!("{} entries", map.len())
}
