// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
fn first() -> i32 {
    let value = 1;
    value
}

fn beta() -> i32 {
    let value = 2;
    value
}

// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
fn omega() -> i32 {
    alpha()
}
