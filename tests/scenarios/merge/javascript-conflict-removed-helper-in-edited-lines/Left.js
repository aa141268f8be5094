var deprecate = require('depd')('shop');
var escape = require('escape-html');

exports.clear = function clear(name, options) {
  if (options && options.maxAge) {
    deprecate('clear: options.maxAge is ignored');
  }
  var opts = Object.assign({ expires: new Date(1), path: '/shop' }, options);
  return this.cookie(name, '', opts);
};

exports.label = function label(text) {
  return escape(text);
};
