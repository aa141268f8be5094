import { ClockLike } from '../types';
export function isClock(value: any): value is ClockLike {
  return value && typeof (<any>value).now === 'function';
}
