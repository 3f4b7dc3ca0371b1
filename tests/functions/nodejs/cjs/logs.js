// console at each level, for the JSON log format (LoggingConfig.LogFormat: JSON).
exports.handler = async (event) => {
  console.debug("debug line");
  console.log("log line %d", 1);
  console.warn({ warned: true });
  console.error("failed:", new Error("boom"));
  return { logged: 4 };
};
