// Money amounts are integers of cents.

export interface Line {
  label: string;
  cents: number;
}

export function formatAmount(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

export function formatLine(line: Line): string {
  return `${line.label.padEnd(24)}${formatAmount(line.cents)}`;
}

export function formatTotal(lines: Line[]): string {
  const total = lines.reduce((sum, line) => sum + line.cents, 0);
  return `${"Total".padEnd(24)}${formatAmount(total)}`;
}
