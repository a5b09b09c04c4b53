// Promises of ops that finish off the JS thread (Net, ApplicationStorage): the op returns an
// id, the session loop settles it through dispatch.settle. Part of the prelude.

const pendingOps = new Map(); // id -> { resolve, reject }

function awaitOp(id) {
  return new Promise((resolve, reject) => pendingOps.set(id, { resolve, reject }));
}

function settleOp(id, ok, payloadJson) {
  const pending = pendingOps.get(id);
  if (!pending) return;
  pendingOps.delete(id);
  const payload = JSON.parse(payloadJson);
  if (ok) pending.resolve(payload);
  else pending.reject(codedError(Error, payload.code, payload.message));
}
