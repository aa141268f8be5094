import { parse } from "./parse";
import { format } from "./format";
import { render } from "./render";

function alpha(): number {
  const value: number = 1;
  return value;
}
