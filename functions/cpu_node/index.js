// CPU-bound work in Node.js, single-threaded: the same FNV-1a loop as functions/cpu_python and
// functions/cpu_rust, for comparing the three languages on identical work (`lambda-emu compare
// cpu_python cpu_node cpu_rust`).
//
// Payload: {"n": <loop iterations>} (default 12,000,000, cpu_python's). For i in 0..n:
// h ^= i & 0xFF; h *= 0x100000001B3 (mod 2^64), from the FNV offset basis. The 64-bit h is kept
// in two 32-bit halves: the prime is 2^40 + 0x1B3, so h * prime = (h << 40) + h * 0x1B3.
// Result: {"n": n, "hash": "<decimal>"}: the same hash as the other two, as a string, since
// a JavaScript number holds 53 bits and JSON.stringify writes no BigInt.
exports.handler = async (event) => {
  const n = Number(event?.n ?? 12_000_000);
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < n; i++) {
    lo = (lo ^ (i & 0xff)) >>> 0;
    const low = lo * 0x1b3; // < 2^41: exact in a double
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + Math.floor(low / 0x100000000)) >>> 0;
    lo = low >>> 0;
  }
  return { n, hash: ((BigInt(hi) << 32n) | BigInt(lo)).toString() };
};
