var escape = require('escape-html');

exports.clear = function clear(name, options) {
  var opts = Object.assign({ path: '/' }, options, { expires: new Date(1) });
  return this.cookie(name, '', opts);
};

exports.label = function label(text) {
  return escape(text);
};
