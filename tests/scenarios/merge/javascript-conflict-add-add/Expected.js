function alpha() {
  const value = 1;
  return value;
}

function beta() {
  const value = 2;
  return value;
}

<<<<<<< left
function gamma() {
  const value = 3;
  return value;
}
||||||| base
=======
function gamma() {
  const value = 33;
  return value;
}
>>>>>>> right
