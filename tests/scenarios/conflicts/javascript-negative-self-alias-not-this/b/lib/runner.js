class Runner {
  run(fn) {
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
    runner.run(function () {});
  });
  if (self && self.run) {
    self.run(function () {});
  }
  return self;
}

export { Runner, runAll };
