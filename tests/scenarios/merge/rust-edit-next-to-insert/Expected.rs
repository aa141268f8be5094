fn alpha() -> i32 {
    let value = 1;
    value * 2
}

fn delta() -> i32 {
    let value = 4;
    value
}

fn beta() -> i32 {
    let value = 2;
    value
}
