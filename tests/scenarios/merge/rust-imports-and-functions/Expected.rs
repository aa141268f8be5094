use std::fmt;
use std::io;
use std::env;

fn alpha() -> i32 {
    let value = 1;
    value
}

fn gamma() -> i32 {
    let value = 3;
    value
}

fn delta() -> i32 {
    let value = 4;
    value
}
