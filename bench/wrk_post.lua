-- wrk -s bench/wrk_post.lua: POST `{}` as an Invoke API call (RequestResponse).
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
