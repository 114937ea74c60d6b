// A real Better Auth server for the Python interoperability tests.
//
// Configuration (environment):
//   PORT                     port to listen on (127.0.0.1 only)                 [required]
//   DATABASE_URL             postgres://... database owned by this server       [required]
//   BETTER_AUTH_SECRET       secret (>= 32 chars) for cookies / key encryption  [required]
//   BETTER_AUTH_URL          base URL, normally http://127.0.0.1:$PORT          [default: that]
//   JWT_ALG                  EdDSA (default) | RS256 | ES256 | ES512 | PS256
//   JWT_EXPIRATION           jwt.expirationTime, e.g. "15m" (default) or "30s"
//   JWKS_ROTATION_INTERVAL   seconds; keys get expiresAt = createdAt + interval and
//                            Better Auth mints a new key on the first sign after that
//   JWKS_GRACE_PERIOD        seconds an expired key stays in the JWKS (BA default 30 days)
//   BETTER_AUTH_RESET_DB     "1": DROP + CREATE the database named in DATABASE_URL
//                            first (only allowed for names starting with better_auth_)
//
// Besides Better Auth's own routes under /api/auth/*, this server exposes test-only
// admin routes (require header `x-interop-admin: $BETTER_AUTH_SECRET`):
//   POST /__interop/rotate-keys[?mode=add|replace]
//        add     (default) mint a new key pair; it becomes the signing key at once,
//                old keys stay published in the JWKS (old tokens keep verifying)
//        replace mint a new key pair and DELETE every other key from the jwks table
//                (old tokens can no longer be verified once a verifier refreshes)
//        -> 200 {"kid": "<new key id>", "removed": [<deleted kids>]}
//   GET  /__interop/health -> 200 {"ok": true}
//
// On success prints one line: `BETTER_AUTH_READY {"url": ..., "alg": ..., ...}`.

import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer } from "better-auth/plugins/bearer";
import { createJwk, jwt } from "better-auth/plugins/jwt";
import pg from "pg";

const startedAt = Date.now();

function requireEnv(name) {
	const value = process.env[name];
	if (!value) {
		console.error(`server.mjs: missing required environment variable ${name}`);
		process.exit(2);
	}
	return value;
}

const port = Number.parseInt(requireEnv("PORT"), 10);
const databaseUrl = requireEnv("DATABASE_URL");
const secret = requireEnv("BETTER_AUTH_SECRET");
const baseURL = process.env.BETTER_AUTH_URL || `http://127.0.0.1:${port}`;
const alg = process.env.JWT_ALG || "EdDSA";
const expirationTime = process.env.JWT_EXPIRATION || "15m";
const rotationInterval = process.env.JWKS_ROTATION_INTERVAL
	? Number(process.env.JWKS_ROTATION_INTERVAL)
	: undefined;
const gracePeriod = process.env.JWKS_GRACE_PERIOD
	? Number(process.env.JWKS_GRACE_PERIOD)
	: undefined;

const KEY_PAIR_CONFIGS = {
	EdDSA: { alg: "EdDSA", crv: "Ed25519" },
	ES256: { alg: "ES256" },
	ES512: { alg: "ES512" },
	RS256: { alg: "RS256", modulusLength: 2048 },
	PS256: { alg: "PS256", modulusLength: 2048 },
};
const keyPairConfig = KEY_PAIR_CONFIGS[alg];
if (!keyPairConfig) {
	console.error(`server.mjs: unsupported JWT_ALG=${alg}; use one of ${Object.keys(KEY_PAIR_CONFIGS)}`);
	process.exit(2);
}

async function resetDatabase(url) {
	const target = new URL(url);
	const dbName = decodeURIComponent(target.pathname.replace(/^\//, ""));
	if (!/^better_auth_[A-Za-z0-9_]*$/.test(dbName)) {
		throw new Error(`refusing to reset database ${JSON.stringify(dbName)}: name must match better_auth_[A-Za-z0-9_]*`);
	}
	const maintenance = new URL(url);
	maintenance.pathname = "/postgres";
	const client = new pg.Client({ connectionString: maintenance.toString() });
	await client.connect();
	try {
		await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
		await client.query(`CREATE DATABASE "${dbName}"`);
	} finally {
		await client.end();
	}
}

if (process.env.BETTER_AUTH_RESET_DB === "1") {
	await resetDatabase(databaseUrl);
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });

const jwtPluginOptions = {
	jwks: {
		keyPairConfig,
		...(rotationInterval ? { rotationInterval } : {}),
		...(gracePeriod !== undefined ? { gracePeriod } : {}),
	},
	jwt: { expirationTime },
};

const authOptions = {
	appName: "todo-interop",
	baseURL,
	basePath: "/api/auth",
	secret,
	database: pool,
	trustedOrigins: [baseURL],
	emailAndPassword: { enabled: true, requireEmailVerification: false, autoSignIn: true },
	rateLimit: { enabled: false },
	telemetry: { enabled: false },
	plugins: [jwt(jwtPluginOptions), bearer()],
};

const auth = betterAuth(authOptions);

// Create / update Better Auth's own tables (user, session, account, verification, jwks).
const migrationsStarted = Date.now();
const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(authOptions);
await runMigrations();
const migrationMs = Date.now() - migrationsStarted;

const authHandler = toNodeHandler(auth);

function sendJson(res, status, body) {
	const data = JSON.stringify(body);
	res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
	res.end(data);
}

async function rotateKeys(mode) {
	const context = await auth.$context;
	const before = await context.adapter.findMany({ model: "jwks" });
	// createJwk is Better Auth's own key-minting function (used when no key exists or
	// the latest one expired). The newest live key of the configured alg signs.
	const created = await createJwk({ context }, jwtPluginOptions);
	const removed = [];
	if (mode === "replace") {
		for (const key of before) {
			await context.adapter.delete({ model: "jwks", where: [{ field: "id", value: key.id }] });
			removed.push(key.id);
		}
	}
	return { kid: created.id, removed };
}

async function handleAdmin(req, res, url) {
	if (req.headers["x-interop-admin"] !== secret) {
		sendJson(res, 403, { error: "missing or wrong x-interop-admin header" });
		return;
	}
	if (url.pathname === "/__interop/health" && req.method === "GET") {
		sendJson(res, 200, { ok: true });
		return;
	}
	if (url.pathname === "/__interop/rotate-keys" && req.method === "POST") {
		const mode = url.searchParams.get("mode") || "add";
		if (mode !== "add" && mode !== "replace") {
			sendJson(res, 400, { error: `unknown mode ${mode}` });
			return;
		}
		sendJson(res, 200, await rotateKeys(mode));
		return;
	}
	sendJson(res, 404, { error: "not found" });
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url ?? "/", baseURL);
	if (url.pathname.startsWith("/__interop/")) {
		handleAdmin(req, res, url).catch((err) => {
			console.error("admin route failed:", err);
			if (!res.headersSent) sendJson(res, 500, { error: String(err) });
		});
		return;
	}
	if (url.pathname.startsWith("/api/auth")) {
		authHandler(req, res);
		return;
	}
	sendJson(res, 404, { error: "not found" });
});

server.listen(port, "127.0.0.1", () => {
	const info = {
		url: baseURL,
		alg,
		pid: process.pid,
		startup_ms: Date.now() - startedAt,
		migration_ms: migrationMs,
		tables_created: toBeCreated.map((t) => t.table),
		columns_added: toBeAdded.map((t) => t.table),
	};
	console.log(`BETTER_AUTH_READY ${JSON.stringify(info)}`);
});

async function shutdown(signal) {
	server.close();
	await pool.end().catch(() => {});
	console.log(`server.mjs: stopped (${signal})`);
	process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
