// An ES module by its extension, with top-level await during init.
const started = await Promise.resolve(Date.now());
export const handler = async (event) => ({ style: "esm-mjs", event, started: started > 0 });
