import { alpha2 } from "./alpha2.js";
import { beta2 } from "./beta2.js";

function alpha() {
  const value = 1;
  return value;
}
