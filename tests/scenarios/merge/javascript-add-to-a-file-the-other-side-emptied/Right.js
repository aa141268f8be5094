import "tslib";

const _bind = Function.prototype.bind;

var Kind;

(function (Kind) {
    Kind["NEXT"] = "N";
})(Kind || (Kind = {}));
