class Runner {
  start(fn) {
    this.started = Date.now();
    fn();
  }

  abort() {
    this.aborted = true;
  }
}

function runAll(runners, options) {
  var self = options.parent;
  runners.forEach(function (runner) {
    runner.start(function () {});
  });
  return self;
}

export { Runner, runAll };
