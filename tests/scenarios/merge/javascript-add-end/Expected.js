function alpha() {
  const value = 1;
  return value;
}

function beta() {
  const value = 2;
  return value;
}

function gamma() {
  const value = 3;
  return value;
}

function delta() {
  const value = 4;
  return value;
}
