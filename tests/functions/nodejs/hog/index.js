// Allocates {"mb": N} megabytes outside V8's heap and touches every page: past the memory
// size the cgroup's OOM killer ends the runtime. {"heapMb": N} allocates N megabytes of
// JavaScript objects instead, on V8's heap: past V8's own limit (--max-old-space-size, which
// Lambda's bootstrap sets from the memory size) node aborts with "JavaScript heap out of memory".
const kept = [];
exports.handler = async (event) => {
  if (event.heapMb) {
    for (let i = 0; i < event.heapMb; i++) kept.push(new Array(131072).fill(i + 0.5)); // 1 MB
    return { heap_mb: event.heapMb };
  }
  const mb = event.mb ?? 300;
  const block = Buffer.alloc(mb * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4096) block[i] = 1;
  return { allocated_mb: mb };
};
