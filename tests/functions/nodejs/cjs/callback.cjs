// A callback handler (.cjs) that leaves a timer pending: with callbackWaitsForEmptyEventLoop
// true (the default) Lambda answers when the event loop is empty, with false at the callback.
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = event.wait !== false;
  setTimeout(() => console.log("timer fired"), event.timerMs ?? 1500);
  callback(null, { style: "callback", wait: context.callbackWaitsForEmptyEventLoop });
};
