function alpha() {
  const value = 1;
  return value;
}

function beta_total() {
  const value = 2;
  return value;
}
