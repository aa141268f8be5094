function gamma() {
  const value = 3;
  return value;
}

function beta() {
  const value = 20;
  return value;
}

function alpha() {
  const value = 10;
  return value;
}
