'use strict';

/**
 * Send JSON response.
 *
 * @param {string|number|boolean|object} obj
 * @public
 */

res.json = function json(obj) {
  var app = this.app;
  var escape = app.get('json escape')
  var replacer = app.get('json replacer');
  var spaces = app.get('json spaces');
  var body = stringify(obj, replacer, spaces);

  if (!this.get('Content-Type')) {
    this.set('Content-Type', 'application/json');
  }

  return this.send(body);
};
