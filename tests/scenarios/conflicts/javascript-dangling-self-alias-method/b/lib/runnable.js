import { EventEmitter } from "node:events";
import { createTimeoutError } from "./errors.js";

/**
 * Save timer references to avoid Sinon interfering (see GH-237).
 * @private
 */
var setTimeout = global.setTimeout;
var clearTimeout = global.clearTimeout;

var MAX_TIMEOUT = Math.pow(2, 31) - 1;

class Runnable extends EventEmitter {
  clearTimeout() {
    clearTimeout(this.timer);
  }

  /**
   * Reset the timeout.
   *
   * @private
   */
  resetTimeout() {
    var self = this;
    var ms = this.timeout() || MAX_TIMEOUT;

    this.clearTimeout();
    this.timer = setTimeout(function () {
      if (self.timeout() === 0) {
        return;
      }
      self.callback(self._timeoutError(ms));
      self.timedOut = true;
    }, ms);
  }

  /**
   * Run the test and invoke `fn(err)`.
   *
   * @param {Function} fn
   * @private
   */
  run(fn) {
    var self = this;
    var finished;

    function done(err) {
      if (self.timedOut) {
        return;
      }
      if (self.timeout() && new Date() - self.started > self.timeout()) {
        err = self._timeoutError(self.timeout());
      }
      self.clearTimeout();
      finished = true;
      fn(err);
    }

    this.callback = done;
    this.resetTimeout();
  }

  _timeoutError(ms) {
    let msg = `Timeout of ${ms}ms exceeded. For async tests and hooks, ensure "done()" is called; if returning a Promise, ensure it resolves.`;
    if (this.file) {
      msg += " (" + this.file + ")";
    }
    return createTimeoutError(msg, ms, this.file);
  }
}

export { Runnable };
