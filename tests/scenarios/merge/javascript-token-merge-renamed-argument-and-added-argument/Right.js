'use strict';

/**
 * Send JSON response.
 *
 * @param {string|number|boolean|object} val
 * @public
 */

res.json = function json(val) {
  var app = this.app;
  var escape = app.get('json escape')
  var replacer = app.get('json replacer');
  var spaces = app.get('json spaces');
  var body = stringify(val, replacer, spaces, escape)

  if (!this.get('Content-Type')) {
    this.set('Content-Type', 'application/json');
  }

  return this.send(body);
};
