// A throw at the top level of a scenario is a load error with its stack.
const config = JSON.parse("{not json");
