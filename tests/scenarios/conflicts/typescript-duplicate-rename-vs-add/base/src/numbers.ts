// Numeric helpers for the slider component.

export function toRange(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export function step(value: number, stepSize: number): number {
  return Math.round(value / stepSize) * stepSize;
}

export function snap(value: number, min: number, max: number, stepSize: number): number {
  return toRange(step(value, stepSize), min, max);
}
