// The anti-pattern, in Node: independent downstream calls awaited one after another.
//
// A profile needs the user, their posts and their comments: three 100 ms calls to the local
// downstream service, so about 300 ms of Duration, all of it billed waiting. With
// {"ids": [1, 2, ...]} it also fetches every user in turn (the fan-out): N x 100 ms.
// concurrent.js does the same work with Promise.all (functions/io_sequential in Python).
const { get, profile } = require("./downstream");

exports.handler = async (event) => {
  const uid = Number(event?.user ?? 1);
  const ids = (event?.ids ?? []).map(Number);
  const started = performance.now();
  const user = await get(`/users/${uid}`);
  const posts = await get(`/posts?userId=${uid}`);
  const comments = await get(`/comments?userId=${uid}`);
  const fanout = [];
  for (const id of ids) fanout.push(await get(`/users/${id}`));
  return profile(user, posts, comments, fanout, started);
};
