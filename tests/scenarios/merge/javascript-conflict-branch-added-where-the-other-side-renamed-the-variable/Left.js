'use strict';

/**
 * Parse the "Host" header field to a host.
 *
 * @return {String}
 * @public
 */

defineGetter(req, 'host', function host(){
  var trust = this.app.get('trust proxy fn');
  var val = this.get('X-Forwarded-Host');

  if (!val || !trust(this.connection.remoteAddress, 0)) {
    val = this.get('Host');
  }

  return val || undefined;
});

/**
 * Parse the "Host" header field to a hostname.
 *
 * @return {String}
 * @public
 */

defineGetter(req, 'hostname', function hostname(){
  var host = this.host;

  if (!host) return;

  var index = host.indexOf(':');

  return index !== -1
    ? host.substring(0, index)
    : host;
});
