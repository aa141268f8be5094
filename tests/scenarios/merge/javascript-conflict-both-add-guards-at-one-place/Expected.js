function leakedGlobals(allowed, names) {
  return names.filter(function(name){
<<<<<<< left
    // browsers expose frames as numeric indexes of the window
    if (/^\d+$/.test(name)) return false;
||||||| base
=======
    // test runners in a page expose their element ids as globals
    if (/^runner-/.test(name)) return false;

    // a frame can be reached as window[index]; some browsers enumerate it
    if (globalThis.navigator && /^\d+$/.test(name)) return false;

>>>>>>> right
    var matches = allowed.filter(function(pattern){
      if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
      return name === pattern;
    });
    return matches.length === 0;
  });
}
