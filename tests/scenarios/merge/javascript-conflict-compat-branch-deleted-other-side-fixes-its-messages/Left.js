res.jsonp = function jsonp(obj) {
  // settings
  var app = this.app;
  var body = stringify(obj, app.get('json replacer'), app.get('json spaces'));

  return this.send(body);
};
