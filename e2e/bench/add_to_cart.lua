-- wrk script: each request adds one item to a fresh anonymous cart (a new session id),
-- so line quantities never reach their cap.
math.randomseed(os.time())
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end
wrk.method = "POST"
wrk.body = '{"product_id": "cast-iron-skillet", "quantity": 1}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["X-Session-Id"] = uuid()
  return wrk.format()
end
