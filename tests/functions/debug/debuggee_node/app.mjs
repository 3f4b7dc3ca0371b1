export const handler = async (event, context) => {
  const doubled = event.n * 2;
  const remaining = context.getRemainingTimeInMillis();
  return { doubled, remaining_ms: remaining, pid: process.pid }; // BREAK
};
