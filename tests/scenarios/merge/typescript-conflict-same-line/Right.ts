function alpha(): number {
  const value: number = 11;
  return value;
}

function beta(): number {
  const value: number = 2;
  return value;
}
