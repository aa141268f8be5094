function alpha(): number {
  const value: number = 1;
  return value;
}

function gamma(): number {
  const value: number = 3;
  return value;
}
