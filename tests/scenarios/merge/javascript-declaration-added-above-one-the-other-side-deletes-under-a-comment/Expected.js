'use strict';

/**
 * Module dependencies.
 * @private
 */

var Buffer = require('safe-buffer').Buffer
var contentType = require('content-type');
var mime = require('send').mime;
var etag = require('etag');
var qs = require('qs');

/**
 * Return strong ETag for `body`.
 */

exports.etag = createETagGenerator({ weak: false })
