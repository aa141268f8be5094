export function assignments(columns: string[], param: (name: string) => string): string[] {
  const parts: string[] = [];
  for (const column of columns) {
    parts.push(column + " = " + param(column));
  }
  return parts;
}
