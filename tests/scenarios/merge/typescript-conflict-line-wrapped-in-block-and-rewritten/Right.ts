export function assignments(columns: string[], param: (name: string) => string): string[] {
  const parts: string[] = [];
  for (const column of columns) {
    if (column.startsWith("geo_")) {
      parts.push(column + " = GeomFromText(" + param(column) + ")");
    } else {
      parts.push(column + " = " + param(column));
    }
  }
  return parts;
}
