function alpha(): number {
  const value: number = 1;
  return value * 2;
}

function beta(): number {
  const value: number = 2;
  return value;
}
