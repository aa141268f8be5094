function alpha() {
  const value = 1;
  return value * 2;
}

function beta() {
  const value = 2;
  return value;
}
