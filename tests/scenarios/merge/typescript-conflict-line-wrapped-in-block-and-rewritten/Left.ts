export function assignments(columns: string[], param: (name: string) => string): string[] {
  const parts: string[] = [];
  for (const column of columns) {
    let expression = param(column);
    if (column.startsWith("geo_")) {
      expression = `ST_GeomFromText(${expression})`;
    }
    parts.push(column + " = " + expression);
  }
  return parts;
}
