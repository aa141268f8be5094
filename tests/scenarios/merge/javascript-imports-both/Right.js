import { alpha2 } from "./alpha2.js";
import { gamma2 } from "./gamma2.js";

function alpha() {
  const value = 1;
  return value;
}
