const _bind = Function.prototype.bind;
