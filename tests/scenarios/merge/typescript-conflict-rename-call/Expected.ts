// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
function first(): number {
  const value: number = 1;
  return value;
}

function beta(): number {
  const value: number = 2;
  return value;
}

// crdtspace dangling-reference: left renamed alpha to first, but right's new code in omega uses it.
function omega(): number {
  return alpha();
}
