fn alpha() -> i32 {
    let value = 10;
    value
}

fn beta() -> i32 {
    let value = 2;
    value
}
