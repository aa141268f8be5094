function alpha(): number {
  const value: number = 1;
  return value;
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
function beta(x: number): number {
  const value: number = 2;
  return value;
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
function omega(): number {
  return beta();
}
