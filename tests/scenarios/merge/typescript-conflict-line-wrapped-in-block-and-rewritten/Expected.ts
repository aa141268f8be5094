export function assignments(columns: string[], param: (name: string) => string): string[] {
  const parts: string[] = [];
  for (const column of columns) {
<<<<<<< left
    let expression = param(column);
    if (column.startsWith("geo_")) {
      expression = `ST_GeomFromText(${expression})`;
    }
    parts.push(column + " = " + expression);
||||||| base
    parts.push(column + " = " + param(column));
=======
    if (column.startsWith("geo_")) {
      parts.push(column + " = GeomFromText(" + param(column) + ")");
    } else {
      parts.push(column + " = " + param(column));
    }
>>>>>>> right
  }
  return parts;
}
