import { parse } from "./parse";
import { format } from "./format";
import { render } from "./render";

function alpha(): number {
  const value: number = 1;
  return value;
}

function gamma(): number {
  const value: number = 3;
  return value;
}

function delta(): number {
  const value: number = 4;
  return value;
}
