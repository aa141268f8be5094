function alpha() {
<<<<<<< left
  const value = 10;
||||||| base
  const value = 1;
=======
  const value = 11;
>>>>>>> right
  return value;
}

function beta() {
  const value = 2;
  return value;
}
