// A registry dependency pinned by a lockfile (installed with npm ci).
const ms = require("ms");
exports.handler = async () => ({ ms: ms("2h"), from: require.resolve("ms") });
