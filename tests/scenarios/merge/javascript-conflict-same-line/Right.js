function alpha() {
  const value = 11;
  return value;
}

function beta() {
  const value = 2;
  return value;
}
