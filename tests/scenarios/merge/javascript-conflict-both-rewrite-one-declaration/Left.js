exports.dedentBody = function(text) {
  text = stripWrapper(text.replace(/\r\n?/g, '\n'));

  var leading = text.match(/^\n?(\s*)/)[1]
    , re = new RegExp('^' + leading, 'gm');

  text = text.replace(re, '');

  return text.trim();
};
