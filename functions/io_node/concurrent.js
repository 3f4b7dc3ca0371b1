// The pattern, in Node: independent downstream calls started together and awaited with
// Promise.all.
//
// The same three 100 ms calls as sequential.js run at once, so the profile takes about 100 ms
// instead of 300 ms. With {"ids": [...]} every user is fetched too, at most
// {"concurrency": 10} at a time: a few workers take the ids in turn, so a large fan-out does
// not open hundreds of connections or trip the downstream's rate limit
// (functions/io_concurrent in Python).
const { get, profile } = require("./downstream");

async function fanOut(ids, concurrency) {
  const users = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      users[i] = await get(`/users/${ids[i]}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return users;
}

exports.handler = async (event) => {
  const uid = Number(event?.user ?? 1);
  const ids = (event?.ids ?? []).map(Number);
  const concurrency = Math.max(1, Number(event?.concurrency ?? 10));
  const started = performance.now();
  const [[user, posts, comments], fanout] = await Promise.all([
    Promise.all([
      get(`/users/${uid}`),
      get(`/posts?userId=${uid}`),
      get(`/comments?userId=${uid}`),
    ]),
    fanOut(ids, concurrency),
  ]);
  return profile(user, posts, comments, fanout, started);
};
