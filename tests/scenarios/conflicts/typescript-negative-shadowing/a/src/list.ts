// Showing lists of results.

export function visible<T>(items: T[], limit: number): T[] {
  return items.slice(0, limit);
}

export function hiddenCount<T>(items: T[], limit: number): number {
  return Math.max(0, items.length - limit);
}
