import { parse } from "./parse";
import { render } from "./render";

function alpha(): number {
  const value: number = 1;
  return value;
}
