use std::fmt;
use std::io;

fn alpha() -> i32 {
    let value = 1;
    value
}
