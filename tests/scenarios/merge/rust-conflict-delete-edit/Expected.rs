fn alpha() -> i32 {
    let value = 1;
    value
}

<<<<<<< left
||||||| base
fn beta() -> i32 {
    let value = 2;
    value
}
=======
fn beta() -> i32 {
    let value = 20;
    value
}
>>>>>>> right

fn gamma() -> i32 {
    let value = 3;
    value
}
