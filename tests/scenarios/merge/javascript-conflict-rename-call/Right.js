function alpha() {
  const value = 1;
  return value;
}

function beta() {
  const value = 2;
  return value;
}

function omega() {
  return alpha();
}
