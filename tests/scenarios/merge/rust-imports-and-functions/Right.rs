use std::fmt;
use std::env;

fn alpha() -> i32 {
    let value = 1;
    value
}

fn delta() -> i32 {
    let value = 4;
    value
}
