// Net: HTTP requests from a scenario (VoxEngine's Net namespace, a global). A request always
// resolves: a failure is a result with a negative code and an error, never a rejection. Loaded
// on first use (lazy.js).

const NET_TIMEOUT_S = 90;
const NET_CONNECTION_TIMEOUT_S = 6;

// Old scripts build options with `new Net.HttpRequestOptions()` and set fields on it.
class HttpRequestOptions {}

function netFail(api, message) {
  throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${api}: ${message}`);
}

// Seconds that may only lower the cap; absent or 0: the cap.
function netSeconds(api, name, value, cap) {
  if (value === undefined || value === null || value === 0) return cap * 1000;
  if (typeof value !== "number" || !(value > 0)) netFail(api, `'${name}' must be a positive number of seconds`);
  return Math.round(Math.min(value, cap) * 1000);
}

// Headers in either VoxEngine form: ["Name: value", ...] (up to v11) or {Name: value}.
function netHeaders(api, headers) {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    return headers.map((line) => {
      const text = String(line);
      const colon = text.indexOf(":");
      if (colon <= 0) netFail(api, `the header '${text}' is not "Name: value"`);
      return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
    });
  }
  if (typeof headers === "object") return Object.entries(headers).map(([k, v]) => [k, String(v)]);
  return netFail(api, "'headers' must be an array of \"Name: value\" lines or an object");
}

function netBody(api, postData) {
  if (postData === undefined || postData === null) return null;
  if (typeof postData === "string") return postData;
  if (typeof postData === "number") return String(postData);
  if (Array.isArray(postData) || ArrayBuffer.isView(postData)) {
    const bytes = Array.from(postData);
    if (!bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      netFail(api, "'postData' bytes must be integers from 0 to 255");
    }
    return bytes;
  }
  return netFail(api, "'postData' must be a string or an array of bytes");
}

function netRequest(api, url, options) {
  if (typeof url !== "string" || url === "") netFail(api, "the URL must be a non-empty string");
  if (options !== undefined && options !== null && typeof options !== "object") {
    netFail(api, "options must be an object");
  }
  const o = options || {};
  if (o.method !== undefined && typeof o.method !== "string") netFail(api, "'method' must be a string");
  const params = o.params === undefined || o.params === null ? [] : Object.entries(o.params).map(([k, v]) => [k, String(v)]);
  const request = {
    url,
    method: (o.method || "GET").toUpperCase(),
    headers: netHeaders(api, o.headers),
    params,
    body: netBody(api, o.postData),
    timeoutMs: netSeconds(api, "timeout", o.timeout, NET_TIMEOUT_S),
    connectTimeoutMs: netSeconds(api, "connectionTimeout", o.connectionTimeout, NET_CONNECTION_TIMEOUT_S),
    rawOutput: Boolean(o.rawOutput),
  };
  if (o.enableSystemLog) {
    const body = request.body === null ? "" : ` ${Array.isArray(request.body) ? `(${request.body.length} bytes)` : request.body}`;
    Logger.write(`Net: ${request.method} ${url}${body}`);
  }
  return awaitOp(ops.netRequest(JSON.stringify(request)));
}

global.Net = {
  HttpRequestOptions,
  httpRequestAsync(url, options) {
    return netRequest("Net.httpRequestAsync", url, options);
  },
  httpRequest(url, callback, options) {
    if (typeof callback !== "function") netFail("Net.httpRequest", "the callback must be a function");
    netRequest("Net.httpRequest", url, options).then((result) => callback(result));
  },
};

// Net's mail is not available yet: it fails naming itself (see missing.js).
for (const name of ["sendMail", "sendMailAsync"]) global.Net[name] = notAvailable(`Net.${name}`);

// What the prelude takes from this part.
return { Net: global.Net };
