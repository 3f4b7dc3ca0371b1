// GET a JSON document from the local downstream service (DOWNSTREAM_URL) with Node's own
// fetch, whose connection pool lives as long as the execution environment.
const BASE = process.env.DOWNSTREAM_URL ?? "http://127.0.0.1:9001";

exports.get = async (path) => {
  for (let attempt = 1; ; attempt++) {
    try {
      const resp = await fetch(BASE + path);
      if (!resp.ok) throw new Error(`GET ${path}: ${resp.status}`);
      return await resp.json();
    } catch (err) {
      // the server may have closed a kept-alive connection while the environment was frozen
      if (attempt === 2 || !(err instanceof TypeError)) throw err;
    }
  }
};

// The handlers' answer: what the profile holds and how long it took.
exports.profile = (user, posts, comments, fanout, started) => ({
  user: user.name,
  posts: posts.length,
  comments: comments.length,
  fanout: fanout.length,
  elapsed_ms: Math.round((performance.now() - started) * 10) / 10,
});
