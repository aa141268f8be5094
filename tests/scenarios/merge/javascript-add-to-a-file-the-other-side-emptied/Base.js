import "tslib";

var Kind;

(function (Kind) {
    Kind["NEXT"] = "N";
})(Kind || (Kind = {}));
