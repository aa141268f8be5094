var escape = require('escape-html');

// crdtspace dangling-reference: right deleted deprecate, but left's new code in exports.clear uses it.
exports.clear = function clear(name, options) {
<<<<<<< left
  if (options && options.maxAge) {
    deprecate('clear: options.maxAge is ignored');
  }
  var opts = Object.assign({ expires: new Date(1), path: '/shop' }, options);
||||||| base
  var opts = Object.assign({ expires: new Date(1), path: '/' }, options);
=======
  var opts = Object.assign({ path: '/' }, options, { expires: new Date(1) });
>>>>>>> right
  return this.cookie(name, '', opts);
};

exports.label = function label(text) {
  return escape(text);
};
