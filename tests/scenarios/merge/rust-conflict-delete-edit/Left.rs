fn alpha() -> i32 {
    let value = 1;
    value
}

fn gamma() -> i32 {
    let value = 3;
    value
}
