exports.dedentBody = function(text) {
  text = stripWrapper(text.replace(/\r\n?/g, '\n'));

  var indent = text.match(/^\n?( *)/)[1].length
    , tabCount = text.match(/^\n?(\t*)/)[1].length
    , re = new RegExp('^\n?' + (tabCount ? '\t' : ' ') + '{' + (tabCount ? tabCount : indent) + '}', 'gm');

  text = text.replace(re, '');

  return text.trim();
};
