fn alpha() -> i32 {
    let value = 1;
    value
}

fn beta() -> i32 {
    let value = 20;
    value
}
