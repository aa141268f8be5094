function alpha() {
  const value = 1;
  return value;
}

function beta(x) {
  const value = 2;
  return value;
}
