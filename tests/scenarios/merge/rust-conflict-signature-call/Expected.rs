fn alpha() -> i32 {
    let value = 1;
    value
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
fn beta(x: i32) -> i32 {
    let value = 2;
    value
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
fn omega() -> i32 {
    beta()
}
