function alpha(): number {
<<<<<<< left
  const value: number = 10;
||||||| base
  const value: number = 1;
=======
  const value: number = 11;
>>>>>>> right
  return value;
}

function beta(): number {
  const value: number = 2;
  return value;
}
