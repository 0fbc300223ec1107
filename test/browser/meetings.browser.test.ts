/**
 * Meetings in real browsers against the real stack (Quorum as `npm start` runs it, with the
 * embedded SFU and a real mediasoup worker; Chromium's fake camera and microphone): each person
 * is their own browser context, and media is checked by the frames each page decodes.
 *
 * (a) three people in one meeting each decode the two others' cameras;
 * (b) a one-to-one call runs peer-to-peer (no SFU transport), and when a third person joins
 *     everyone moves to the SFU and keeps seeing everyone;
 * (c) the host locks (a newcomer is refused, in words), mutes, removes and ends, through the UI;
 *     the participants' pages say so and the session stream records it;
 * (d) a dropped connection in a peer-to-peer call rejoins as the same participant, and a screen
 *     share renegotiates the call.
 * (a) also shares a screen, and drops and recovers a connection through the SFU.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cspViolations, launchChromium, screenshot, startQuorum, type RunningQuorum } from './harness';
import {
  dropConnection,
  joinInUi,
  meetingDebug,
  organization,
  person,
  remoteVideoStats,
  sfuState,
  startMeetingInUi,
  type Person,
  type VideoStat,
} from './meeting-helpers';

let quorum: RunningQuorum;
let browser: Browser;
const people: Person[] = [];

beforeAll(async () => {
  quorum = await startQuorum();
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of people)
    await p.context.close().catch((err: unknown) => console.warn(`closing ${p.name}'s context failed`, err));
  await browser?.close();
  await quorum?.stop();
});

async function newPerson(name: string): Promise<Person> {
  const p = await person(browser, quorum.baseUrl, name);
  people.push(p);
  return p;
}

/**
 * `p` decodes the cameras of exactly `from` (by user id), and keeps decoding: every one of
 * them has more frames decoded after `gapMs` than before.
 */
async function expectRisingFrames(
  p: Person,
  from: Person[],
  { gapMs = 1_500, timeoutMs = 30_000, source = 'camera' as VideoStat['source'] } = {},
): Promise<void> {
  const wanted = from.map((f) => f.userId).sort();
  const decoding = async () =>
    (await remoteVideoStats(p.page))
      .filter((s) => s.source === source && s.framesDecoded > 0)
      .map((s) => s.peerId)
      .sort();
  await expect
    .poll(decoding, {
      timeout: timeoutMs,
      interval: 250,
      message: `${p.name} decodes ${source} video of ${from.map((f) => f.name).join(', ')}`,
    })
    .toEqual(wanted);
  const before = await remoteVideoStats(p.page);
  await p.page.waitForTimeout(gapMs);
  const after = await remoteVideoStats(p.page);
  for (const peerId of wanted) {
    const a = before.find((s) => s.peerId === peerId && s.source === source)?.framesDecoded ?? 0;
    const b = after.find((s) => s.peerId === peerId && s.source === source)?.framesDecoded ?? 0;
    expect(b, `${p.name}: frames of ${from.find((f) => f.userId === peerId)?.name} keep rising`).toBeGreaterThan(a);
  }
}

/** Ends a test's people (their pages leave), so the next test has the machine to itself. */
async function done(...ps: Person[]) {
  for (const p of ps) {
    await p.context.close();
    people.splice(people.indexOf(p), 1);
  }
}

describe('meetings in the browser', () => {
  it('(a) three participants each decode the two others’ video', async () => {
    const owner = await newPerson('Olive Owner');
    const ada = await newPerson('Ada Lovelace');
    const bob = await newPerson('Bob Builder');
    const orgId = await organization(quorum.baseUrl, owner, [ada, bob], 'Three Co');
    const sessionId = await startMeetingInUi(owner, orgId, 'Trio');

    await joinInUi(owner, orgId, sessionId);
    await joinInUi(ada, orgId, sessionId);
    await joinInUi(bob, orgId, sessionId);
    for (const p of [owner, ada, bob]) await p.page.locator('[data-testid="meeting-room"][data-mode="sfu"]').waitFor();

    await Promise.all([
      expectRisingFrames(owner, [ada, bob]),
      expectRisingFrames(ada, [owner, bob]),
      expectRisingFrames(bob, [owner, ada]),
    ]);
    // Names on the tiles, and everyone in the list.
    await ada.page.getByTestId('participant-Olive Owner').waitFor();
    await ada.page.getByTestId('participant-Bob Builder').waitFor();
    expect(await ada.page.locator('figure[data-testid="tile"] figcaption').allTextContents()).toEqual(
      expect.arrayContaining(['You', 'Olive Owner', 'Bob Builder']),
    );
    await screenshot(ada.page, 'meeting-room');

    // Ada shares her screen: a second video of hers reaches the others; stopping removes it.
    await ada.page.getByRole('button', { name: 'Share screen' }).click();
    await Promise.all([
      expectRisingFrames(owner, [ada], { source: 'screen' }),
      expectRisingFrames(bob, [ada], { source: 'screen' }),
    ]);
    await owner.page.locator('figure[data-source="screen"]').getByText("Ada Lovelace's screen").waitFor();
    await screenshot(owner.page, 'meeting-screen-share');
    await ada.page.getByRole('button', { name: 'Stop sharing' }).click();
    await expect.poll(() => bob.page.locator('figure[data-source="screen"]').count()).toBe(0);

    // Bob's connection drops: his page rejoins by itself as the same participant, and media flows again.
    await dropConnection(bob.page);
    await expect.poll(async () => (await meetingDebug(bob.page)).joins, { timeout: 20_000 }).toBe(2);
    await Promise.all([
      expectRisingFrames(bob, [owner, ada]),
      expectRisingFrames(owner, [ada, bob]),
      expectRisingFrames(ada, [owner, bob]),
    ]);
    const joins = await call<{ events: Array<{ type: string; streamId: string }> }>(
      quorum.baseUrl,
      'query',
      'events.list',
      { orgId, types: ['participant.joined', 'participant.left'] },
      owner.token,
    );
    expect(joins.events.filter((e) => e.streamId === `session-${sessionId}`).map((e) => e.type)).toEqual([
      'participant.joined',
      'participant.joined',
      'participant.joined',
    ]);

    // Leaving is seen by the others at once.
    await bob.page.getByRole('button', { name: 'Leave' }).click();
    await bob.page.getByTestId('meeting-over').filter({ hasText: 'You left the meeting.' }).waitFor();
    await expect.poll(() => owner.page.locator('figure[data-testid="tile"]').count()).toBe(2);
    await done(owner, ada, bob);
  });

  it('(b) a one-to-one call is peer-to-peer; a third participant moves everyone to the SFU', async () => {
    const owner = await newPerson('Olive Owner');
    const ada = await newPerson('Ada Lovelace');
    const bob = await newPerson('Bob Builder');
    const orgId = await organization(quorum.baseUrl, owner, [ada, bob], 'Pair Co');
    const sessionId = await startMeetingInUi(owner, orgId, 'One to one');

    await joinInUi(owner, orgId, sessionId);
    await joinInUi(ada, orgId, sessionId);
    for (const p of [owner, ada])
      await p.page.getByTestId('meeting-mode').filter({ hasText: 'Peer-to-peer' }).waitFor();
    await Promise.all([expectRisingFrames(owner, [ada]), expectRisingFrames(ada, [owner])]);

    // Straight between the browsers: the SFU relays signals only, with no media room or transport.
    const p2p = await sfuState(quorum);
    const meeting = p2p.meetings.find((m) => m.sessionId === sessionId);
    expect(meeting).toMatchObject({ mode: 'p2p', mediaRoomId: null });
    expect(meeting?.participants.map((p) => p.inMedia)).toEqual([false, false]);
    expect(p2p.media.rooms.find((r) => r.roomId === sessionId)).toBeUndefined();
    expect(await meetingDebug(ada.page)).toEqual({ mode: 'p2p', peerConnections: 1, transports: 0, joins: 1 });
    await screenshot(ada.page, 'meeting-p2p');

    // A third person: everyone continues through the SFU.
    await joinInUi(bob, orgId, sessionId);
    for (const p of [owner, ada, bob])
      await p.page.getByTestId('meeting-mode').filter({ hasText: 'Through the SFU' }).waitFor();
    await Promise.all([
      expectRisingFrames(owner, [ada, bob]),
      expectRisingFrames(ada, [owner, bob]),
      expectRisingFrames(bob, [owner, ada]),
    ]);
    const sfu = await sfuState(quorum);
    expect(sfu.meetings.find((m) => m.sessionId === sessionId)).toMatchObject({ mode: 'sfu', mediaRoomId: sessionId });
    const room = sfu.media.rooms.find((r) => r.roomId === sessionId);
    expect(room?.peers.map((p) => p.peerId).sort()).toEqual([owner.userId, ada.userId, bob.userId].sort());
    // A send and a receive transport each.
    for (const peer of room?.peers ?? []) expect(peer.transports).toHaveLength(2);
    expect(await meetingDebug(ada.page)).toEqual({ mode: 'sfu', peerConnections: 0, transports: 2, joins: 1 });
    await done(owner, ada, bob);
  });

  it('(c) the host locks, mutes, removes and ends through the UI; pages and the session stream show it', async () => {
    const owner = await newPerson('Olive Owner');
    const ada = await newPerson('Ada Lovelace');
    const bob = await newPerson('Bob Builder');
    const cleo = await newPerson('Cleo Latecomer');
    const orgId = await organization(quorum.baseUrl, owner, [ada, bob, cleo], 'Host Co');
    const sessionId = await startMeetingInUi(owner, orgId, 'Moderated');

    await joinInUi(owner, orgId, sessionId);
    await joinInUi(ada, orgId, sessionId);
    await joinInUi(bob, orgId, sessionId);
    const host = owner.page;
    await host.getByTestId('participant-Ada Lovelace').waitFor();
    await host.getByTestId('participant-Bob Builder').waitFor();
    // Only the host has host controls.
    expect(await ada.page.getByRole('button', { name: 'Lock meeting' }).count()).toBe(0);
    expect(await ada.page.getByRole('button', { name: 'Remove Bob Builder' }).count()).toBe(0);

    // Lock: everyone sees it, and a newcomer is refused with the server's words.
    await host.getByRole('button', { name: 'Lock meeting' }).click();
    for (const p of [owner, ada, bob]) await p.page.getByTestId('meeting-locked').waitFor();
    await cleo.page.goto(`/orgs/${orgId}/meetings/${sessionId}`);
    await cleo.page.getByRole('button', { name: 'Join meeting' }).click();
    await cleo.page
      .getByTestId('join-refused')
      .filter({ hasText: /locked/i })
      .waitFor();
    await screenshot(cleo.page, 'meeting-refused-locked');
    await host.getByRole('button', { name: 'Unlock meeting' }).click();
    await expect.poll(() => ada.page.getByTestId('meeting-locked').count()).toBe(0);

    // Mute Ada: her page says so and her microphone is off; the host sees her muted.
    await host.getByRole('button', { name: 'Mute Ada Lovelace' }).click();
    await ada.page.getByTestId('meeting-notice').filter({ hasText: 'The host turned off your microphone.' }).waitFor();
    await ada.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await host.getByTestId('participant-Ada Lovelace').getByText('Muted by the host').waitFor();
    await screenshot(host, 'meeting-host-controls');

    // Remove Bob: his page says so; the others no longer see him.
    await host.getByRole('button', { name: 'Remove Bob Builder' }).click();
    await host.getByRole('button', { name: 'Remove Bob Builder?' }).click();
    await bob.page.getByTestId('meeting-over').filter({ hasText: 'The host removed you from this meeting.' }).waitFor();
    expect(await bob.page.getByRole('button', { name: 'Join again' }).count()).toBe(0);
    await expect.poll(() => ada.page.getByTestId('participant-Bob Builder').count()).toBe(0);
    await screenshot(bob.page, 'meeting-removed');

    // End for everyone.
    await host.getByRole('button', { name: 'End meeting for everyone' }).click();
    await host.getByRole('button', { name: 'End meeting for everyone?' }).click();
    await ada.page
      .getByTestId('meeting-over')
      .filter({ hasText: 'The host ended the meeting for everyone.' })
      .waitFor();
    await host.getByTestId('meeting-over').filter({ hasText: 'The host ended the meeting for everyone.' }).waitFor();

    // The session stream holds the host's actions.
    const { events } = await call<{ events: Array<{ type: string; streamId: string }> }>(
      quorum.baseUrl,
      'query',
      'events.list',
      {
        orgId,
        types: ['participant.muted', 'participant.removed', 'session.ended', 'session.locked', 'session.unlocked'],
      },
      owner.token,
    );
    expect(events.filter((e) => e.streamId === `session-${sessionId}`).map((e) => e.type)).toEqual([
      'session.locked',
      'session.unlocked',
      'participant.muted',
      'participant.removed',
      'session.ended',
    ]);

    // The meeting is in the past now, with its duration.
    await host.getByRole('link', { name: 'Back to meetings' }).click();
    const row = host.getByTestId('meeting-row-Moderated');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('ended');
    expect(await row.getByTestId('meeting-duration').textContent()).toMatch(/^\d+ s$|min/);
    await screenshot(host, 'meetings');
    await done(owner, ada, bob, cleo);
  });

  it('(d) a peer-to-peer call recovers from a dropped connection without a new join on the stream, and renegotiates a screen share', async () => {
    const owner = await newPerson('Olive Owner');
    const ada = await newPerson('Ada Lovelace');
    const orgId = await organization(quorum.baseUrl, owner, [ada], 'Blip Co');
    const sessionId = await startMeetingInUi(owner, orgId, 'Flaky');
    await joinInUi(owner, orgId, sessionId);
    await joinInUi(ada, orgId, sessionId);
    await Promise.all([expectRisingFrames(owner, [ada]), expectRisingFrames(ada, [owner])]);

    // The side that dropped rejoins with a fresh ticket and offers again; the call resumes peer-to-peer.
    await dropConnection(owner.page);
    await expect.poll(async () => (await meetingDebug(owner.page)).joins, { timeout: 20_000 }).toBe(2);
    await owner.page.getByTestId('connection-state').filter({ hasText: 'You and Ada Lovelace' }).waitFor();
    await Promise.all([expectRisingFrames(owner, [ada]), expectRisingFrames(ada, [owner])]);
    expect(await meetingDebug(owner.page)).toEqual({ mode: 'p2p', peerConnections: 1, transports: 0, joins: 2 });
    expect((await sfuState(quorum)).meetings.find((m) => m.sessionId === sessionId)).toMatchObject({
      mode: 'p2p',
      mediaRoomId: null,
    });
    const { events } = await call<{ events: Array<{ type: string; streamId: string }> }>(
      quorum.baseUrl,
      'query',
      'events.list',
      { orgId, types: ['participant.joined', 'participant.left'] },
      owner.token,
    );
    expect(events.filter((e) => e.streamId === `session-${sessionId}`).map((e) => e.type)).toEqual([
      'participant.joined',
      'participant.joined',
    ]);

    // Ada (now the side that yields) adds her screen: the call renegotiates, and stopping removes it.
    await ada.page.getByRole('button', { name: 'Share screen' }).click();
    await expectRisingFrames(owner, [ada], { source: 'screen' });
    await owner.page.locator('figure[data-source="screen"]').getByText("Ada Lovelace's screen").waitFor();
    await ada.page.getByRole('button', { name: 'Stop sharing' }).click();
    await expect.poll(() => owner.page.locator('figure[data-source="screen"]').count(), { timeout: 15_000 }).toBe(0);
    await expectRisingFrames(owner, [ada]);
    await done(owner, ada);
  });

  it('ran within the Content-Security-Policy', () => {
    expect(cspViolations()).toEqual([]);
  });
});
