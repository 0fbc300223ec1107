/**
 * Commands of an organization's webhook endpoints (`webhooks-<orgId>`). Whether a URL is safe
 * to call is decided by the gateway before (it resolves names, which a decider cannot); the
 * decider keeps the endpoints' lifecycle, the event types and the per-organization limit.
 */

/** Subscribe a new endpoint: enabled, with its first secret. */
export interface CreateEndpoint {
  type: 'CreateEndpoint';
  orgId: string;
  endpointId: string;
  url: string;
  description: string;
  /** Public event types; empty: every public type. */
  eventTypes: readonly string[];
  by: string;
  at: Date;
}

/** Change an endpoint's URL, description or event types; an omitted field keeps its value. */
export interface UpdateEndpoint {
  type: 'UpdateEndpoint';
  orgId: string;
  endpointId: string;
  url?: string | undefined;
  description?: string | undefined;
  eventTypes?: readonly string[] | undefined;
  by: string;
  at: Date;
}

/** Hold deliveries until the endpoint is resumed. */
export interface PauseEndpoint {
  type: 'PauseEndpoint';
  orgId: string;
  endpointId: string;
  by: string;
  at: Date;
}

/** Deliver again to a paused endpoint, or one Quorum disabled. */
export interface ResumeEndpoint {
  type: 'ResumeEndpoint';
  orgId: string;
  endpointId: string;
  by: string;
  at: Date;
}

/** Sign with a new secret from now on; the previous one still signs for `overlapMs`. */
export interface RotateEndpointSecret {
  type: 'RotateEndpointSecret';
  orgId: string;
  endpointId: string;
  /** 0 to {@link MAX_SECRET_OVERLAP_MS}. */
  overlapMs: number;
  by: string;
  at: Date;
}

/** Stop delivering to an endpoint for good. */
export interface DeleteEndpoint {
  type: 'DeleteEndpoint';
  orgId: string;
  endpointId: string;
  by: string;
  at: Date;
}

/** Quorum stops delivering to an endpoint on its own (410 Gone, or failing for too long). */
export interface DisableEndpoint {
  type: 'DisableEndpoint';
  orgId: string;
  endpointId: string;
  reason: 'gone' | 'failing';
  failingSince: Date;
  at: Date;
}

/** Any command on an organization's webhook endpoints. */
export type WebhooksCommand =
  | CreateEndpoint
  | UpdateEndpoint
  | PauseEndpoint
  | ResumeEndpoint
  | RotateEndpointSecret
  | DeleteEndpoint
  | DisableEndpoint;

/** Endpoints an organization may have (deleted ones do not count). */
export const MAX_ENDPOINTS_PER_ORG = 20;

/** The previous secret's overlap when the caller names none: a day. */
export const DEFAULT_SECRET_OVERLAP_MS = 24 * 3_600_000;

/** The longest overlap a rotation may ask for: a week. */
export const MAX_SECRET_OVERLAP_MS = 7 * 24 * 3_600_000;
