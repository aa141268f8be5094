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

<<<<<<< left
  if (!val || !trust(this.connection.remoteAddress, 0)) {
    val = this.get('Host');
||||||| base
  if (!host || !trust(this.connection.remoteAddress, 0)) {
    host = this.get('Host');
=======
  if (!host || !trust(this.connection.remoteAddress, 0)) {
    host = this.get('Host');
  } else if (host.indexOf(',') !== -1) {
    // Note: X-Forwarded-Host is normally only ever a
    //       single value, but this is to be safe.
    host = host.substring(0, host.indexOf(',')).trimRight()
>>>>>>> right
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
