export function formatPrice(cents: number | bigint): string {
  return `$${(Number(cents) / 100).toFixed(2)}`;
}
