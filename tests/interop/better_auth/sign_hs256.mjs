// Mint a compact HS256 JWT with `jose`, the way a Next.js route handler would:
//
//   const token = await new SignJWT({ sub, email, name })
//     .setProtectedHeader({ alg: "HS256" })
//     .setIssuedAt()
//     .setExpirationTime("15m")
//     .sign(new TextEncoder().encode(secret));
//
// Usage:
//   node sign_hs256.mjs '<claims JSON>' [secret]
//   echo '<claims JSON>' | node sign_hs256.mjs - [secret]
// The secret comes from argv[3], else the env var HS256_SECRET.
// Claims must include "sub"; any other claims (email, name, iss, aud, ...) are copied
// into the payload as given. Optional env HS256_EXPIRES_IN overrides "15m".
// Prints the token (and nothing else) on stdout.

import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

function fail(message) {
	console.error(`sign_hs256.mjs: ${message}`);
	process.exit(2);
}

const rawClaims = process.argv[2] === undefined || process.argv[2] === "-"
	? readFileSync(0, "utf8")
	: process.argv[2];
const secret = process.argv[3] ?? process.env.HS256_SECRET;
if (!secret) fail("no secret: pass it as the second argument or set HS256_SECRET");

let claims;
try {
	claims = JSON.parse(rawClaims);
} catch (err) {
	fail(`claims are not valid JSON: ${err.message}`);
}
if (claims === null || typeof claims !== "object" || Array.isArray(claims)) fail("claims must be a JSON object");
if (typeof claims.sub !== "string" || claims.sub === "") fail('claims must include a non-empty string "sub"');

const token = await new SignJWT(claims)
	.setProtectedHeader({ alg: "HS256" })
	.setIssuedAt()
	.setExpirationTime(process.env.HS256_EXPIRES_IN || "15m")
	.sign(new TextEncoder().encode(secret));

process.stdout.write(`${token}\n`);
