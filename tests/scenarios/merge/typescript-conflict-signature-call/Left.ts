function alpha(): number {
  const value: number = 1;
  return value;
}

function beta(x: number): number {
  const value: number = 2;
  return value;
}
