// ApplicationStorage: the application's key-value store, shared by its sessions (and the
// admin API), with expiry. Loaded by require(Modules.ApplicationStorage). Every method returns
// a promise; a key or value past VoxEngine's limits rejects it with ERR_STORAGE_LIMIT. Loaded
// on require (see lazy.js).

const STORAGE_MAX_TTL_S = 7776000;

function storageFail(method, message) {
  return Promise.reject(codedError(TypeError, "ERR_INVALID_ARGUMENT", `ApplicationStorage.${method}: ${message}`));
}

function storageKey(method, key) {
  return typeof key === "string" && key !== "" ? null : storageFail(method, "the key must be a non-empty string");
}

const ApplicationStorage = {
  // Creates or replaces key; it expires ttl seconds from now (0 or absent: 90 days).
  put(key, value, ttl) {
    const bad = storageKey("put", key);
    if (bad) return bad;
    if (value === undefined || value === null) return storageFail("put", "the value must be a string");
    const seconds = ttl === undefined || ttl === null ? 0 : ttl;
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0 || seconds > STORAGE_MAX_TTL_S) {
      return storageFail("put", `the ttl must be a whole number of seconds from 0 to ${STORAGE_MAX_TTL_S} (90 days)`);
    }
    return awaitOp(ops.storage("put", key, String(value), seconds));
  },
  // {key, value, expireAt}, or null when there is no such key.
  get(key) {
    return storageKey("get", key) || awaitOp(ops.storage("get", key, "", 0));
  },
  // Deletes key; resolves with what it held (expireAt 0), or null when there was none.
  remove(key) {
    return storageKey("remove", key) || awaitOp(ops.storage("remove", key, "", 0));
  },
  // {keys: [...]}: all keys, or those of a namespace (the part of a key before ':'), up to count.
  keys(pattern, count) {
    if (pattern !== undefined && pattern !== null && typeof pattern !== "string") {
      return storageFail("keys", "the pattern must be a string");
    }
    const most = count === undefined || count === null ? 1000 : count;
    if (!Number.isInteger(most) || most < 1 || most > 1000) return storageFail("keys", "count must be from 1 to 1000");
    return awaitOp(ops.storage("keys", pattern || "", "", most));
  },
};
// `delete` is remove's name up to VoxEngine 11.
ApplicationStorage.delete = ApplicationStorage.remove;

moduleInstallers.set(Modules.ApplicationStorage, () => {
  global.ApplicationStorage = ApplicationStorage;
});
