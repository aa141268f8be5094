function alpha() {
  const value = 1;
  return value;
}

<<<<<<< left
||||||| base
function beta() {
  const value = 2;
  return value;
}
=======
function beta() {
  const value = 20;
  return value;
}
>>>>>>> right

function gamma() {
  const value = 3;
  return value;
}
