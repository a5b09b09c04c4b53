// Node preload that keeps TCP servers on loopback.
//
//   node -r ./tests/peers/loopback-only.cjs SCRIPT ...
//   NODE_OPTIONS="--require /abs/path/loopback-only.cjs" npx ...
//
// Some peers (e.g. @modelcontextprotocol/server-everything, which calls
// `app.listen(PORT)`) bind every interface and offer no HOST setting. This
// patches net.Server.prototype.listen so that a TCP listen which names no host
// binds 127.0.0.1 instead. Listens that name a host, a unix socket path, a
// handle or an fd are left alone. Set LOOPBACK_ONLY_HOST to use another
// loopback address (e.g. ::1).
'use strict';

const net = require('net');

const HOST = process.env.LOOPBACK_ONLY_HOST || '127.0.0.1';
const original = net.Server.prototype.listen;

function isPort(v) {
  if (typeof v === 'number') return true;
  return typeof v === 'string' && v.trim() !== '' && /^\d+$/.test(v.trim());
}

function withLoopback(args) {
  // listen() / listen(cb) / listen(undefined, ...): random port on all interfaces.
  if (args.length === 0 || typeof args[0] === 'function') {
    return [0, HOST, ...args];
  }
  if (args[0] === undefined || args[0] === null) {
    if (typeof args[1] === 'string') return args; // host given
    return [0, HOST, ...args.slice(1)];
  }
  const first = args[0];
  // listen(port[, host][, backlog][, cb])
  if (isPort(first)) {
    if (typeof args[1] === 'string') return args; // host given
    return [first, HOST, ...args.slice(1)];
  }
  // listen(options[, cb])
  if (typeof first === 'object' && !(first instanceof net.Server)) {
    const isTcp = first.path === undefined && first.fd === undefined && first.handle === undefined
      && first._handle === undefined;
    if (isTcp && (first.host === undefined || first.host === null || first.host === '')) {
      return [Object.assign({}, first, { host: HOST }), ...args.slice(1)];
    }
  }
  // unix socket path, handle, fd, or host already given
  return args;
}

net.Server.prototype.listen = function listen(...args) {
  return original.apply(this, withLoopback(args));
};
