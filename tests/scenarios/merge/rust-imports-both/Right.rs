use std::fmt;
use std::env;

fn alpha() -> i32 {
    let value = 1;
    value
}
