// Its only dependency, `padder`, is in the SAM layer's nodejs/node_modules.
const padder = require("padder");

exports.handler = async (event) => ({
  padded: padder.pad(event.text, 8),
  from: require.resolve("padder"),
});
