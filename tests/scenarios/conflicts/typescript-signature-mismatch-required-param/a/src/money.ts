// Money amounts are integers of cents.

export interface Line {
  label: string;
  cents: number;
}

export function formatAmount(cents: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(cents / 100);
}

export function formatLine(line: Line): string {
  return `${line.label.padEnd(24)}${formatAmount(line.cents, "USD")}`;
}
