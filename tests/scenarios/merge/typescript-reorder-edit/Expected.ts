function gamma(): number {
  const value: number = 3;
  return value;
}

function beta(): number {
  const value: number = 20;
  return value;
}

function alpha(): number {
  const value: number = 10;
  return value;
}
