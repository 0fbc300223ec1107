// k6: a steady stream of seat commands over plain HTTP (tRPC, JSON on the wire).
//
//   k6 run -e BASE_URL=http://127.0.0.1:3000 load-tests/k6/commands.js
//
// setup() signs up one user, creates ORGS organizations on the business plan and buys each 10
// seats; then a constant-arrival-rate scenario sends RATE iterations/s for DURATION, each one
// seats.purchase or seats.release of one seat, round-robin over the organizations and
// alternating per organization (so a release never finds zero seats).
// Sign-up is rate limited per IP (20 per hour): rerun against a fresh server, or expect 429.
import http from 'k6/http';
import exec from 'k6/execution';
import { check, fail } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:3000';
const RATE = Number(__ENV.RATE || 500);
const DURATION = __ENV.DURATION || '30s';
const ORGS = Number(__ENV.ORGS || 50);

export const options = {
  scenarios: {
    commands: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 200,
      maxVUs: 1000,
    },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<250'],
  },
  setupTimeout: '120s',
};

function mutation(procedure, input, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return http.post(`${BASE_URL}/trpc/${procedure}`, JSON.stringify(input), { headers, tags: { procedure } });
}

function data(res, what) {
  if (res.status !== 200) fail(`${what} answered ${res.status}: ${res.body}`);
  return res.json().result.data;
}

export function setup() {
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const user = data(
    mutation('auth.signUp', {
      email: `k6-${tag}@example.com`,
      password: 'correct horse battery staple',
      name: 'K6 Load',
    }),
    'auth.signUp',
  );
  const token = user.accessToken;
  const orgs = [];
  for (let i = 0; i < ORGS; i++) {
    const org = data(mutation('org.create', { name: `k6 ${tag} ${i}`, plan: 'business' }, token), 'org.create');
    data(mutation('seats.purchase', { orgId: org.orgId, quantity: 10 }, token), 'seats.purchase');
    orgs.push(org.orgId);
  }
  return { token, orgs };
}

export default function (ctx) {
  const i = exec.scenario.iterationInTest;
  const orgId = ctx.orgs[i % ctx.orgs.length];
  const procedure = Math.floor(i / ctx.orgs.length) % 2 === 0 ? 'seats.purchase' : 'seats.release';
  const res = mutation(procedure, { orgId, quantity: 1 }, ctx.token);
  check(res, { 'status 200': (r) => r.status === 200 });
}
