function alpha(): number {
  const value: number = 1;
  return value;
}

function beta_total(): number {
  const value: number = 2;
  return value;
}
