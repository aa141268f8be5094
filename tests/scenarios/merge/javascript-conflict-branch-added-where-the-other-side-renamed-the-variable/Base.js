'use strict';

/**
 * Parse the "Host" header field to a hostname.
 *
 * @return {String}
 * @public
 */

defineGetter(req, 'hostname', function hostname(){
  var trust = this.app.get('trust proxy fn');
  var host = this.get('X-Forwarded-Host');

  if (!host || !trust(this.connection.remoteAddress, 0)) {
    host = this.get('Host');
  }

  if (!host) return;

  var index = host.indexOf(':');

  return index !== -1
    ? host.substring(0, index)
    : host;
});
