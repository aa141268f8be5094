function alpha(): number {
  const value: number = 1;
  return value;
}

function beta(): number {
  const value: number = 2;
  return value;
}

<<<<<<< left
function gamma(): number {
  const value: number = 3;
  return value;
}
||||||| base
=======
function gamma(): number {
  const value: number = 33;
  return value;
}
>>>>>>> right
