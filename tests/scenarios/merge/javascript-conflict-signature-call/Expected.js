function alpha() {
  const value = 1;
  return value;
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
function beta(x) {
  const value = 2;
  return value;
}

// crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in omega uses the old ones.
function omega() {
  return beta();
}
