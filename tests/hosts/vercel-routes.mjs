// What Vercel's own route compiler (@vercel/routing-utils, used by the Vercel CLI and build)
// makes of a `vercel.json`: the routes are compiled with `getTransformedRoutes`, then for each
// path given on stdin (one per line) the routes before the file system are applied in order,
// as Vercel's router does: a route with `continue` adds its headers and goes on; a route with a
// redirect status ends there. Prints {errors, paths: {path: {status, location, headers}}}.
// Usage: node vercel-routes.mjs PUBLISH_DIR < paths
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import {
  cleanUrlsSchema,
  getTransformedRoutes,
  headersSchema,
  trailingSlashSchema,
} from '@vercel/routing-utils';

const config = JSON.parse(readFileSync(join(process.argv[2], 'vercel.json'), 'utf8'));
// The keys otasite writes, each checked against Vercel's own schema for it.
const errors = [];
const schemas = { headers: headersSchema, cleanUrls: cleanUrlsSchema, trailingSlash: trailingSlashSchema };
const ajv = new Ajv();
for (const [key, value] of Object.entries(config)) {
  if (key === '$schema') continue;
  const schema = schemas[key];
  if (!schema) {
    errors.push(`unexpected key ${key}`);
  } else if (!ajv.validate(schema, value)) {
    errors.push(`${key}: ${ajv.errorsText()}`);
  }
}
const { routes, error } = getTransformedRoutes(config);
if (error) errors.push(String(error.message || error));
if (errors.length > 0) {
  console.log(JSON.stringify({ errors, paths: {} }));
  process.exit(0);
}
const paths = readFileSync(0, 'utf8').split('\n').filter(Boolean);
const result = {};
for (const path of paths) {
  const out = { status: 200, location: null, headers: {} };
  for (const route of routes) {
    if (route.handle) {
      if (route.handle === 'filesystem') break;
      continue;
    }
    const match = new RegExp(route.src).exec(path);
    if (!match) continue;
    const substitute = (v) => v.replace(/\$(\d+)/g, (_, i) => match[Number(i)] ?? '');
    for (const [name, value] of Object.entries(route.headers || {})) {
      if (name.toLowerCase() === 'location') out.location = substitute(value);
      else out.headers[name.toLowerCase()] = substitute(value);
    }
    if (route.status) out.status = route.status;
    if (!route.continue) break;
  }
  result[path] = out;
}
console.log(JSON.stringify({ errors, routes: routes.length, paths: result }));
