// What Netlify's own parser makes of a `_headers` file: for each path given on stdin (one per
// line), the headers it gets, merged as netlify-cli merges them (every rule whose `forRegExp`
// matches, in file order, later rules winning). Prints one JSON object: {path: {header: value}}.
// Usage: node netlify-headers.mjs PUBLISH_DIR < paths
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllHeaders } from '@netlify/headers-parser';

const dir = process.argv[2];
const { headers, errors } = await parseAllHeaders({
  headersFiles: [join(dir, '_headers')],
  configHeaders: [],
  minimal: false,
});
if (errors.length > 0) {
  console.error(errors.map(String).join('\n'));
  process.exit(1);
}
const paths = readFileSync(0, 'utf8').split('\n').filter(Boolean);
const result = {};
for (const path of paths) {
  const merged = {};
  for (const rule of headers) {
    if (rule.forRegExp.test(path)) {
      for (const [name, value] of Object.entries(rule.values)) {
        merged[name.toLowerCase()] = value;
      }
    }
  }
  result[path] = merged;
}
console.log(JSON.stringify({ rules: headers.length, paths: result }));
