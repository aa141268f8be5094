function alpha() {
  const value = 1;
  return value * 2;
}

function delta() {
  const value = 4;
  return value;
}

function beta() {
  const value = 2;
  return value;
}
