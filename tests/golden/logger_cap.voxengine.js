// Logger.write caps a line at 15 000 characters and renders non-strings.
Logger.write("x".repeat(14990) + "0123456789ABCDEFGHIJ");
Logger.write({ a: 1, list: [true, null] });
Logger.write(new RangeError("shown as name: message"));
Logger.write(42);
VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
