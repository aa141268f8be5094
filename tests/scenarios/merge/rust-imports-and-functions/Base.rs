use std::fmt;

fn alpha() -> i32 {
    let value = 1;
    value
}
