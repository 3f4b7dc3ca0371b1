// What LocalStack's recorded test_uncaught_exception_invoke function throws for Node.
exports.handler = async (event) => {
  throw Error(`Error: ${event.error_msg}`);
};
exports.notAFunction = 42;
