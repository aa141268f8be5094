import { PerSubscriptionSubjectBase } from './per-subscription-subject-base.js';

export interface ReplaySubjectConfig {
  size?: number;
  maxAge?: number;
}

class ReplaySubject<T> extends PerSubscriptionSubjectBase<T> {
  #bufferValues: T[] = [];
  #bufferTimestamps: number[] = [];
  #completed = false;
  #hasError = false;
  #error: any;

  readonly #size: number;
  readonly #maxAge: number;

  constructor(config?: ReplaySubjectConfig) {
    super();

    const { size = Infinity, maxAge = Infinity } = config ?? {};
    this.#size = size;
    this.#maxAge = maxAge;
  }

  #scheduleAgeFlush() {
    globalThis.setTimeout(() => {
      const tooOld = globalThis.Date.now() - this.#maxAge;
      const indexOfOldestAllowedItem = this.#bufferTimestamps.findIndex((timestamp) => tooOld < timestamp);
      const amountToTrim = indexOfOldestAllowedItem < 0 ? this.#bufferTimestamps.length : indexOfOldestAllowedItem;
      if (amountToTrim > 0) {
        this.#bufferTimestamps.splice(0, amountToTrim);
        this.#bufferValues.splice(0, amountToTrim);
      }
    }, this.#maxAge);
  }

  #checkSize() {
    const bufferLength = this.#bufferValues.length;
    const maxSize = this.#size;
    if (bufferLength > maxSize) {
      const amountToTrim = bufferLength - maxSize;
      this.#bufferValues.splice(0, amountToTrim);
      if (this.#maxAge !== Infinity) {
        this.#bufferTimestamps.splice(0, amountToTrim);
      }
    }
  }

  override next(value: T) {
    if (this.active) {
      this.#bufferValues.push(value);
      if (this.#maxAge !== Infinity) {
        this.#bufferTimestamps.push(globalThis.Date.now());
        this.#scheduleAgeFlush();
      }
      if (this.#size !== Infinity) {
        this.#checkSize();
      }
    }
    super.next(value);
  }

  override complete() {
    if (this.active) {
      this.#completed = true;
      this.#checkSize();
    }
    super.complete();
  }
}

export { ReplaySubject };
