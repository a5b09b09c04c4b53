// The README's first scenario, as shipped: answer, say, hang up.
// @scenario ../../scenarios/hello.voxengine.js
