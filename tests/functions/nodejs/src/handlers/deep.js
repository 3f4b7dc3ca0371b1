// A handler in a subdirectory: handler = "src/handlers/deep.handler".
exports.handler = async () => ({ style: "subdir", dir: __dirname });
