var deprecate = require('depd')('shop');
var escape = require('escape-html');

exports.clear = function clear(name, options) {
  var opts = Object.assign({ expires: new Date(1), path: '/' }, options);
  return this.cookie(name, '', opts);
};

exports.label = function label(text) {
  return escape(text);
};
