'use strict';

/**
 * Module dependencies.
 * @private
 */

var contentType = require('content-type');
var mime = require('send').mime;
var etag = require('etag');
var qs = require('qs');

/**
 * Return strong ETag for `body`.
 */

exports.etag = function (body, encoding) {
  return etag(body, {weak: false});
};
