fn alpha() -> i32 {
    let value = 1;
    value
}

fn beta(x: i32) -> i32 {
    let value = 2;
    value
}
