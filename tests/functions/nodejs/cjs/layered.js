// Modules from a layer's nodejs/node_modules and nodejs/node20/node_modules, through NODE_PATH.
const greet = require("greet");
const greet20 = require("greet20");
exports.handler = async () => ({ greet: greet("node"), greet20: greet20() });
