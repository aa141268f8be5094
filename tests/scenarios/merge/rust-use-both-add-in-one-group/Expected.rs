use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    io,
};

pub fn describe(map: &HashMap<String, u32>) -> String {
    format!("{} entries", map.len())
}
