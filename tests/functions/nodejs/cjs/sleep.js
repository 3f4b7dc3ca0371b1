// Holds its environment busy for a while and says which process served it.
exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 1000));
  return { pid: process.pid };
};
