// light-my-request (Fastify's inject) require()s `cookie` 2, which is ESM-only. Node ≥ 20.19 loads
// it through require(esm), but Jest's module runtime cannot before Node 24.9
// (https://jestjs.io/docs/ecmascript-modules#require-of-esm). Tests never send cookies, so this
// stand-in for the one function inject uses is enough; the app itself uses the real package.
'use strict';
module.exports = {
  stringifySetCookie: ({ name, value }) => `${name}=${encodeURIComponent(value)}`,
};
