function alpha() {
  const value = 1;
  return value;
}

function beta_total() {
  const value = 20;
  return value;
}
