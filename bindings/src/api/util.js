// Helper globals: uuidgen, base64. Part of the prelude.

global.uuidgen = () => ops.uuid();
global.base64_encode = (data) => ops.base64Encode(String(data));
global.base64_decode = (data) => ops.base64Decode(String(data));
