// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
function first() {
  const value = 1;
  return value;
}

function beta() {
  const value = 2;
  return value;
}

// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
function omega() {
  return alpha();
}
