// What the SDK functions invoke through the emulator's Invoke API.
exports.handler = async (event) => ({ doubled: event.n * 2 });
