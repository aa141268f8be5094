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
