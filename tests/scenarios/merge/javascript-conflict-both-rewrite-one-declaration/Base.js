exports.dedentBody = function(text) {
  text = stripWrapper(text.replace(/\r\n?/g, '\n'));

  var indent = text.match(/^\n?( *)/)[1].length
    , re = new RegExp('^ {' + indent + '}', 'gm');

  text = text.replace(re, '');

  return text.trim();
};
