import { Clock } from '../Clock';
export function isClock(value: any): value is Clock {
  return value && typeof (<any>value).now === 'function';
}
