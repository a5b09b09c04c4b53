// uuidgen and base64 helpers.
const id = uuidgen();
Logger.write(`uuid v4 shape: ${/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)}, unique: ${id !== uuidgen()}`);
const encoded = base64_encode("héllo, Dialtone");
Logger.write(`base64: ${encoded} -> ${base64_decode(encoded)}`);
try {
  base64_decode("***");
} catch (err) {
  Logger.write(`${err.name} ${err.code}`);
}
VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
