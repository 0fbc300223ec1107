import { startInMemoryTelemetry, type InMemoryTelemetry, type ReadableSpan } from '@quorum/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestQuorum, type TestQuorum } from '../support/test-quorum';

/** One trace from the tRPC call through the append, the relay (NATS) and the projector. */
describe('tracing across the command path', () => {
  let telemetry: InMemoryTelemetry;
  let q: TestQuorum;
  beforeAll(async () => {
    telemetry = startInMemoryTelemetry('quorum-tracing-test');
    // The in-memory exporter sees this thread's spans: keep the relay and projector here.
    q = await startTestQuorum('tracing', { QUORUM_PIPELINE: 'inline' });
  });
  afterAll(async () => {
    await q?.stop();
    await telemetry?.shutdown();
  });

  it('carries the trace of org.create through append, relay publish and projection', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const signUp = await q.http.mutation('auth.signUp', {
      email: `trace-${Date.now()}@example.com`,
      password: 'a long enough secret',
      name: 'Tracy',
    });
    const res = await fetch(`${q.baseUrl}/trpc/org.create`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signUp.accessToken}`,
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ name: 'Traced Org', plan: 'pro' }),
    });
    const { result } = (await res.json()) as { result: { data: { orgId: string; position: string } } };
    expect(await q.app.pipeline.waitForPosition(BigInt(result.data.position), 10_000)).toBe(true);

    const deadline = Date.now() + 10_000;
    let spans: ReadableSpan[] = [];
    const wanted = (s: ReadableSpan[]) =>
      ['trpc org.create', 'eventstore.append', 'publish organization.created', 'project organization.created'].every(
        (n) => s.some((x) => x.name === n),
      );
    while (Date.now() < deadline) {
      spans = telemetry.spans().filter((s) => s.spanContext().traceId === traceId);
      if (wanted(spans)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const byName = (name: string) => spans.find((s) => s.name === name);
    const server = byName('trpc org.create');
    const append = byName('eventstore.append');
    const publish = byName('publish organization.created');
    const project = byName('project organization.created');
    expect(server, 'SERVER span of the tRPC call').toBeDefined();
    expect(append, 'append span').toBeDefined();
    expect(publish, 'relay PRODUCER span').toBeDefined();
    expect(project, 'projector CONSUMER span').toBeDefined();
    // The caller's trace continues: the server span's parent is the incoming traceparent.
    expect(server!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(append!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(publish!.parentSpanContext?.spanId).toBe(append!.spanContext().spanId);
    expect(project!.parentSpanContext?.spanId).toBe(append!.spanContext().spanId);
  });
});
