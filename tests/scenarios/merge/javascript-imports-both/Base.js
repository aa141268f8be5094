import { alpha2 } from "./alpha2.js";

function alpha() {
  const value = 1;
  return value;
}
