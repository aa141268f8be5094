fn alpha() -> i32 {
    let value = 10;
    value
}

fn beta() -> i32 {
    let value = 20;
    value
}

fn gamma() -> i32 {
    let value = 3;
    value
}
