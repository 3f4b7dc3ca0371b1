// Allocates {"mb": N} megabytes outside V8's heap and touches every page: past the memory
// size the cgroup's OOM killer ends the runtime.
exports.handler = async (event) => {
  const mb = event.mb ?? 300;
  const block = Buffer.alloc(mb * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4096) block[i] = 1;
  return { allocated_mb: mb };
};
