fn alpha() -> i32 {
<<<<<<< left
    let value = 10;
||||||| base
    let value = 1;
=======
    let value = 11;
>>>>>>> right
    value
}

fn beta() -> i32 {
    let value = 2;
    value
}
