function leakedGlobals(allowed, names) {
  return names.filter(function(name){
    var matches = allowed.filter(function(pattern){
      if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
      // test runners in a page expose their element ids as globals
      if (/^runner-/.test(name)) return true;
      return name === pattern;
    });
    return matches.length === 0;
  });
}
