function alpha() {
  const value = 1;
  return value;
}

function beta() {
  const value = 20;
  return value;
}

function gamma() {
  const value = 3;
  return value;
}
