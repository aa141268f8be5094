exports.dedentBody = function(text) {
  text = stripWrapper(text.replace(/\r\n?/g, '\n'));

<<<<<<< left
  var leading = text.match(/^\n?(\s*)/)[1]
    , re = new RegExp('^' + leading, 'gm');
||||||| base
  var indent = text.match(/^\n?( *)/)[1].length
    , re = new RegExp('^ {' + indent + '}', 'gm');
=======
  var indent = text.match(/^\n?( *)/)[1].length
    , tabCount = text.match(/^\n?(\t*)/)[1].length
    , re = new RegExp('^\n?' + (tabCount ? '\t' : ' ') + '{' + (tabCount ? tabCount : indent) + '}', 'gm');
>>>>>>> right

  text = text.replace(re, '');

  return text.trim();
};
