/**
 * @typedef {import('./runnable.js')} Runnable
 */

/**
 * Initialize a new `Context`.
 *
 * @private
 */
class Context {
  constructor() {}
  /**
   * Set or get the context `Runnable` to `runnable`.
   *
   * @private
   * @param {Runnable} runnable
   * @return {Context} context
   */
  runnable(runnable, options = {}) {
    if (!arguments.length) {
      return this._runnable;
    }
    this.test = this._runnable = runnable;
    this._options = options;
    return this;
  }
  /**
   * Set or get test timeout `ms`.
   *
   * @private
   * @param {number} ms
   * @return {Context} self
   */
  timeout(ms) {
    if (!arguments.length) {
      return this.runnable().timeout();
    }
    this.runnable().timeout(ms);
    return this;
  }
  /**
   * Set or get test slowness threshold `ms`.
   *
   * @private
   * @param {number} ms
   * @return {Context} self
   */
  slow(ms) {
    if (!arguments.length) {
      return this.runnable().slow();
    }
    this.runnable().slow(ms);
    return this;
  }
}

export { Context };
