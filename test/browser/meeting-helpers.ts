/**
 * Meetings in the browser tier and the join-latency benchmark: people with their own browser
 * context (cookies from signing up over HTTP in that context), an organization set up through the
 * API, the meeting room driven through the UI, and what the page and the SFU say about the media.
 * No test-runner imports here, so the benchmark can use it too.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { call, newContext, PASSWORD, uniqueEmail, type RunningQuorum } from './harness';
import type { JoinTimeline } from '@quorum/web/join-timeline';

export interface Person {
  name: string;
  email: string;
  userId: string;
  /** Bearer token for API calls made by the test itself. */
  token: string;
  context: BrowserContext;
  page: Page;
}

/**
 * Small fake video (the default would be 1280×720 at 24 fps per camera): several pages encode
 * and decode at once on a small machine, and the tests are about frames arriving, not pixels.
 */
export const FAKE_VIDEO = { width: 320, height: 180, frameRate: 15 };

/**
 * Caps what the page asks the fake camera and screen for; runs in the page before its scripts.
 * Plain JavaScript in a string: a function would be serialized after transpiling, and tsx's
 * helpers (`__name`) do not exist in the page.
 */
function capVideoScript(video: { width: number; height: number; frameRate: number }): string {
  return `(() => {
    const video = ${JSON.stringify(video)};
    const devices = navigator.mediaDevices;
    const capped = (constraints) => {
      if (!constraints || !constraints.video) return constraints;
      const asked = typeof constraints.video === 'object' ? constraints.video : {};
      return { ...constraints, video: { ...asked, width: { ideal: video.width }, height: { ideal: video.height }, frameRate: { ideal: video.frameRate, max: video.frameRate } } };
    };
    const userMedia = devices.getUserMedia.bind(devices);
    const displayMedia = devices.getDisplayMedia.bind(devices);
    devices.getUserMedia = (constraints) => userMedia(capped(constraints));
    devices.getDisplayMedia = (constraints) => displayMedia(capped(constraints));
  })();`;
}

/** A new person in their own browser context, signed up (and so signed in) over HTTP. */
export async function person(
  browser: Browser,
  baseUrl: string,
  name: string,
  video = FAKE_VIDEO,
  email = uniqueEmail(name.split(' ')[0]!.toLowerCase()),
): Promise<Person> {
  const context = await newContext(browser, baseUrl);
  await context.addInitScript({ content: capVideoScript(video) });
  const res = await context.request.post(`${baseUrl}/trpc/auth.signUp`, { data: { email, password: PASSWORD, name } });
  const body = (await res.json()) as {
    result?: { data: { accessToken: string; user: { id: string } } };
    error?: { message: string };
  };
  if (!body.result) throw new Error(`sign-up of ${name} failed: ${body.error?.message ?? res.status()}`);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.warn(`[${name}] page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.warn(`[${name}] console ${m.type()}: ${m.text()}`);
  });
  return { name, email, userId: body.result.data.user.id, token: body.result.data.accessToken, context, page };
}

/** An organization on the pro plan owned by `owner` (who holds a seat, so may host), with `members` in it. */
export async function organization(
  baseUrl: string,
  owner: Person,
  members: Person[],
  name = 'Meeting Co',
): Promise<string> {
  const { orgId } = await call<{ orgId: string }>(
    baseUrl,
    'mutation',
    'org.create',
    { name, plan: 'pro' },
    owner.token,
  );
  await call(baseUrl, 'mutation', 'seats.purchase', { orgId, quantity: 2 }, owner.token);
  await call(baseUrl, 'mutation', 'seats.assign', { orgId, userId: owner.userId }, owner.token);
  for (const m of members) {
    const { invitationId, link } = await call<{ invitationId: string; link: string }>(
      baseUrl,
      'mutation',
      'members.invite',
      { orgId, email: m.email, role: 'member' },
      owner.token,
    );
    await call(
      baseUrl,
      'mutation',
      'members.accept',
      { orgId, invitationId, token: link.slice(link.lastIndexOf('/') + 1) },
      m.token,
    );
  }
  return orgId;
}

/** The owner starts an instant meeting from the Meetings tab; answers its session id. */
export async function startMeetingInUi(owner: Person, orgId: string, title: string): Promise<string> {
  const page = owner.page;
  await page.goto(`/orgs/${orgId}/seats`);
  await page.getByRole('link', { name: 'Meetings' }).click();
  await page.getByLabel('Meeting title').fill(title);
  await page.getByRole('button', { name: 'Start meeting' }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}/meetings/[0-9a-f-]{36}$`));
  return /\/meetings\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
}

/** Opens the room (unless already there), passes the device check and waits until joined. */
export async function joinInUi(p: Person, orgId: string, sessionId: string): Promise<void> {
  const url = `/orgs/${orgId}/meetings/${sessionId}`;
  if (!p.page.url().endsWith(url)) await p.page.goto(url);
  await p.page.getByTestId('prejoin').waitFor();
  // The device check shows the camera before joining.
  await p.page.getByLabel('Your camera preview').waitFor();
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await p.page.locator('[data-testid="meeting-room"][data-phase="live"]').waitFor({ timeout: 20_000 });
}

export interface VideoStat {
  peerId: string;
  source: 'mic' | 'camera' | 'screen';
  framesDecoded: number;
}

/** The page's join timeline (`performance.now()` ms in the page). */
export type { JoinTimeline };

type DebugWindow = {
  __quorumMeeting?: {
    remoteVideoStats(): Promise<VideoStat[]>;
    state(): { mode: string | null; selfId: string | null; phase: string };
    peerConnections(): unknown[];
    transportIds(): string[];
    dropConnection(): void;
    joins(): number;
    timeline(): JoinTimeline;
  };
};

export function remoteVideoStats(page: Page): Promise<VideoStat[]> {
  return page.evaluate(() => (globalThis as unknown as DebugWindow).__quorumMeeting?.remoteVideoStats() ?? []);
}

export function meetingDebug(
  page: Page,
): Promise<{ mode: string | null; peerConnections: number; transports: number; joins: number }> {
  return page.evaluate(() => {
    const m = (globalThis as unknown as DebugWindow).__quorumMeeting;
    return {
      mode: m?.state().mode ?? null,
      peerConnections: m?.peerConnections().length ?? 0,
      transports: m?.transportIds().length ?? 0,
      joins: m?.joins() ?? 0,
    };
  });
}

export function joinTimeline(page: Page): Promise<JoinTimeline> {
  return page.evaluate(() => (globalThis as unknown as DebugWindow).__quorumMeeting?.timeline() ?? {});
}

/** Closes the page's signaling socket as a network drop would; the page rejoins by itself. */
export function dropConnection(page: Page): Promise<void> {
  return page.evaluate(() => (globalThis as unknown as DebugWindow).__quorumMeeting?.dropConnection());
}

export interface SfuState {
  meetings: Array<{
    sessionId: string;
    mode: 'p2p' | 'sfu';
    participants: Array<{ peerId: string; connected: boolean; inMedia: boolean }>;
    mediaRoomId: string | null;
  }>;
  media: { rooms: Array<{ roomId: string; peers: Array<{ peerId: string; transports: unknown[] }> }> };
}

/** What the embedded SFU holds (`GET /sfu/state`: from this host, with a service token). */
export async function sfuState(quorum: RunningQuorum): Promise<SfuState> {
  const res = await fetch(`${quorum.baseUrl}/sfu/state`, {
    headers: { 'x-quorum-service-token': await quorum.serviceToken() },
  });
  if (!res.ok) throw new Error(`/sfu/state answered ${res.status}`);
  return (await res.json()) as SfuState;
}
