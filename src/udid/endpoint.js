// The device-registration endpoint of an otasite site: a device that installed
// udid.mobileconfig POSTs its attributes here (an XML plist inside a CMS signature); the
// answer is a 301 to the result page, which shows them. Nothing is stored or logged. The
// signature is not verified, so the body is untrusted: it is read up to a limit, the plist is
// found by its markers, and each value is kept only if every character is allowed.
// Keep these rules the same as otasite's own (src/udid/device.rs): tests run both.

const MAX_BODY = __MAX_BODY__;
const TOO_LARGE = "the request body is too large for a device's attributes\n";
const NO_PLIST = "no property list of device attributes in the request body\n";
const NO_UDID = "no valid UDID in the device attributes\n";

function answer(status, text, extra) {
  return new Response(text, {
    status,
    headers: Object.assign(
      { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
      extra || {},
    ),
  });
}

// The body, or null when it is larger than MAX_BODY (reading stops there).
async function readBounded(request) {
  const declared = Number(request.headers.get("content-length") || "0");
  if (declared > MAX_BODY) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      try { await reader.cancel(); } catch (_) { /* gone already */ }
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function find(bytes, text, from) {
  const needle = new TextEncoder().encode(text);
  outer: for (let i = from; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (bytes[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function stringOf(plist, key) {
  const marker = "<key>" + key + "</key>";
  const at = plist.indexOf(marker);
  if (at < 0) return null;
  const after = plist.slice(at + marker.length).trimStart();
  if (!after.startsWith("<string>")) return null;
  const end = after.indexOf("</string>");
  if (end < 0) return null;
  return after
    .slice("<string>".length, end)
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&apos;", "'")
    .replaceAll("&quot;", "\"")
    .replaceAll("&amp;", "&");
}

function take(plist, key, pattern) {
  const value = stringOf(plist, key);
  return value !== null && value.trim() === value && pattern.test(value) ? value : null;
}

// The answer to one request to the endpoint.
export async function register(request) {
  if (request.method !== "POST") {
    return answer(405, "devices POST their attributes here\n", { Allow: "POST" });
  }
  let body;
  try {
    body = await readBounded(request);
  } catch (_) {
    return answer(400, "the request body could not be read\n");
  }
  if (body === null) return answer(400, TOO_LARGE);
  const start = find(body, "<?xml", 0);
  const close = start < 0 ? -1 : find(body, "</plist>", start);
  if (close < 0) return answer(400, NO_PLIST);
  const plist = new TextDecoder("utf-8").decode(body.subarray(start, close + "</plist>".length));
  const udid = take(plist, "UDID", /^[0-9A-Fa-f-]{24,40}$/);
  if (udid === null) return answer(400, NO_UDID);
  const fields = [
    ["udid", udid],
    ["product", take(plist, "PRODUCT", /^[A-Za-z0-9,._-]{1,40}$/)],
    ["version", take(plist, "VERSION", /^[A-Za-z0-9.]{1,20}$/)],
    ["name", take(plist, "DEVICE_NAME", /^[\p{L}\p{N} '\u2019._()-]{1,64}$/u)],
  ];
  const query = fields
    .filter(([, value]) => value !== null)
    .map(([key, value]) => key + "=" + encodeURIComponent(value))
    .join("&");
  // The endpoint is <site>/udid/register: the result page is <site>/udid/result/.
  const target = new URL("result/", request.url);
  target.search = "?" + query;
  return new Response(null, {
    status: 301,
    headers: { Location: target.href, "Cache-Control": "no-store" },
  });
}
