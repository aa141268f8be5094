// Showing lists of results.

const limit = 50;

export function visible<T>(items: T[]): T[] {
  return items.slice(0, limit);
}

export function hiddenCount<T>(items: T[]): number {
  return Math.max(0, items.length - limit);
}
