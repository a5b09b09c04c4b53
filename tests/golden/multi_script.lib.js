// A library scenario evaluated before multi_script.voxengine.js in the same realm.
function greet(name) {
  return `Hello, ${name}!`;
}
const LIBRARY_VERSION = "1.0";
