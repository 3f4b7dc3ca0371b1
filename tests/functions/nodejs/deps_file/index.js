// A dependency with a relative file: spec, installed into the cache and still resolving.
const shout = require("shout");
exports.handler = async () => ({ shout: shout("hi"), from: require.resolve("shout") });
