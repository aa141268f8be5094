function alpha() {
  const value = 10;
  return value;
}

function beta() {
  const value = 2;
  return value;
}
