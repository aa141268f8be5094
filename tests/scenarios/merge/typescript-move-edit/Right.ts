function alpha(): number {
  const value: number = 1;
  return value;
}

function beta(): number {
  const value: number = 2;
  return value;
}

function gamma(): number {
  const value: number = 30;
  return value;
}
