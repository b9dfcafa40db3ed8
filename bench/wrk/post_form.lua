-- wrk script: POST a form body with HTTP Basic auth, both from the environment so no secret lands in a file.
--   WRK_BODY="grant_type=client_credentials" WRK_BASIC="<base64 of id:secret>" wrk -s bench/wrk/post_form.lua URL
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local basic = os.getenv("WRK_BASIC")
if basic then
  wrk.headers["Authorization"] = "Basic " .. basic
end
