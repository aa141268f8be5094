import { parse } from "./parse";

function alpha(): number {
  const value: number = 1;
  return value;
}
