/**
 * `@quorum/domain`: commands, events (zod, versioned) and deciders of Quorum. Pure: no I/O,
 * no framework; time, ids and facts from other streams are passed in by the caller.
 */

export { assertUnreachable } from './util/assert-unreachable';
export {
  APP_ERROR_CODES,
  AppError,
  badRequest,
  conflict,
  forbidden,
  isAppError,
  notFound,
  preconditionFailed,
  tooManyRequests,
  unauthorized,
  type AppErrorCode,
  type AppErrorDetails,
} from './errors';
export {
  ENTITLEMENTS,
  PLANS,
  PRICES,
  PlanSchema,
  TRIAL_DAYS,
  TRIAL_MS,
  comparePlans,
  cutOffAtIncludedMinutes,
  entitlementsFor,
  initialStatusFor,
  meetingMinutesOverage,
  pricesFor,
  type Currency,
  type Entitlements,
  type MeetingMinutesOverage,
  type Plan,
  type PlanPrices,
} from './plans';
export { ROLES, RoleSchema, type Role } from './roles';
export {
  ACTIONS,
  OPERATOR_ACTIONS,
  PERMISSIONS,
  UNGATED_ACTIONS,
  WEBHOOKS_MANAGE,
  WEBHOOKS_READ,
  assertCan,
  assertCanAssignRole,
  can,
  type Action,
  type OperatorAction,
  type UngatedAction,
} from './permissions';
export { STREAM_CATEGORIES, categoryOf, streamIds, usagePeriodOf, type StreamCategory } from './streams';
export {
  DEFAULT_USAGE_INTERVAL_SECONDS,
  USAGE_METERS,
  meterSession,
  nextSettledAt,
  type MeterOptions,
  type StoredSessionEvent,
  type UsageInterval,
  type UsageMeter,
} from './usage/usage.meter';
export {
  USAGE_EVENT_DATA_SCHEMAS,
  USAGE_THRESHOLDS,
  UsageMeterSchema,
  UsagePeriodSchema,
  type UsageEvent,
  type UsageEventType,
} from './usage/usage.events';
export { meteredSeconds } from './usage/usage.totals';
export {
  BILLING_EVENT_DATA_SCHEMAS,
  InvoiceDataSchema,
  ReconciliationComparisonSchema,
  ReconciliationDifferenceSchema,
  StripeErrorSchema,
  SyncOperationSchema,
  type BillingEvent,
  type BillingEventType,
} from './billing/billing.events';
export {
  EndpointDescriptionSchema,
  EndpointDisabledReasonSchema,
  EndpointEventTypesSchema,
  EndpointUrlSchema,
  WEBHOOKS_EVENT_DATA_SCHEMAS,
  type WebhooksEvent,
  type WebhooksEventType,
} from './webhooks/webhooks.events';
export {
  DEFAULT_SECRET_OVERLAP_MS,
  MAX_ENDPOINTS_PER_ORG,
  MAX_SECRET_OVERLAP_MS,
  type CreateEndpoint,
  type DeleteEndpoint,
  type DisableEndpoint,
  type PauseEndpoint,
  type ResumeEndpoint,
  type RotateEndpointSecret,
  type UpdateEndpoint,
  type WebhooksCommand,
} from './webhooks/webhooks.commands';
export {
  initialWebhooksState,
  liveEndpoints,
  webhooksDecider,
  type Endpoint,
  type EndpointStatus,
  type WebhooksState,
} from './webhooks/webhooks.decider';
export {
  CreateEndpointInputSchema,
  EndpointRefInputSchema,
  RotateEndpointSecretInputSchema,
  UpdateEndpointInputSchema,
  type CreateEndpointInput,
  type EndpointRefInput,
  type RotateEndpointSecretInput,
  type UpdateEndpointInput,
} from './webhooks/webhooks.schema';
export {
  SEAT_HOLDING_EVENT_TYPES,
  SEAT_TIMELINE_EVENT_TYPES,
  foldSeatHoldings,
  foldSeatTimeline,
  type SeatHolding,
  type SeatStretch,
  type TimelineEvent,
} from './billing/seat-timeline';
export {
  allocateRounded,
  invoicePreview,
  periodBounds,
  type IncludedMinutesLine,
  type InvoiceLine,
  type InvoicePreview,
  type InvoicePreviewInput,
  type OverageMinutesLine,
  type PreviewStretch,
  type SeatLine,
  type SeatLineSources,
} from './billing/invoice-preview';
export { EmailSchema, IdSchema, IsoDateTimeSchema, OrgNameSchema, plainText } from './schemas';
export { FoldScope, foldEvents, type Decider } from './decider';
export { renderEventCatalog } from './catalog/event-catalog';
export { renderRoleMatrix } from './catalog/role-matrix';
export {
  EVENT_SCHEMAS,
  UPCASTERS,
  createEventParser,
  currentVersionOf,
  isDomainEventType,
  parseEvent,
  parseEventData,
  type DomainEvent,
  type DomainEventType,
  type EventCategory,
  type EventDataOf,
  type EventDataParser,
  type EventRegistration,
  type EventRegistry,
  type Upcaster,
  type Upcasters,
} from './events';

// Organization aggregate
export {
  ApiKeyCreatedDataSchema,
  ApiKeyRevokedDataSchema,
  MemberInvitedDataSchema,
  MemberJoinedDataSchema,
  MemberRemovedDataSchema,
  MemberRoleChangedDataSchema,
  ORGANIZATION_EVENT_DATA_SCHEMAS,
  OrganizationActivatedDataSchema,
  OrganizationClosedDataSchema,
  OrganizationCreatedDataSchema,
  OrganizationMarkedPastDueDataSchema,
  OrganizationPlanChangedDataSchema,
  OrganizationReactivatedDataSchema,
  OrganizationStatusSchema,
  OrganizationSuspendedDataSchema,
  type OrganizationEvent,
  type OrganizationEventType,
  type OrganizationStatus,
} from './organization/organization.events';
export type {
  AcceptInvitation,
  ActivateSubscription,
  ChangeMemberRole,
  ChangePlan,
  CloseOrganization,
  CreateApiKey,
  CreateOrganization,
  InviteMember,
  MarkPastDue,
  OrganizationCommand,
  ReactivateOrganization,
  RemoveMember,
  RevokeApiKey,
  SuspendOrganization,
} from './organization/organization.commands';
export {
  AcceptInvitationInputSchema,
  ChangeMemberRoleInputSchema,
  ChangePlanInputSchema,
  CreateOrganizationInputSchema,
  InviteMemberInputSchema,
  OrgIdInputSchema,
  RemoveMemberInputSchema,
  type AcceptInvitationInput,
  type ChangeMemberRoleInput,
  type ChangePlanInput,
  type CreateOrganizationInput,
  type InviteMemberInput,
  type OrgIdInput,
  type RemoveMemberInput,
} from './organization/organization.schema';
export { organizationDecider } from './organization/organization.decider';
export {
  INVITATION_TTL_DAYS,
  apiKeyMay,
  apiKeysMadeBy,
  effectiveStatus,
  findInvitation,
  initialOrganizationState,
  invitationStatus,
  isMember,
  memberByEmail,
  ownerCount,
  pendingInvitationFor,
  roleOf,
  type ApiKeyState,
  type Invitation,
  type Member,
  type Organization,
  type OrganizationState,
} from './organization/organization.state';

// Seats aggregate
export {
  SEATS_EVENT_DATA_SCHEMAS,
  SeatAssignedDataSchema,
  SeatUnassignReasonSchema,
  SeatUnassignedDataSchema,
  SeatsPurchasedDataSchema,
  SeatsReleasedDataSchema,
  type SeatUnassignReason,
  type SeatsEvent,
  type SeatsEventType,
} from './seats/seats.events';
export type { AssignSeat, PurchaseSeats, ReleaseSeats, SeatsCommand, UnassignSeat } from './seats/seats.commands';
export {
  AssignSeatInputSchema,
  MAX_SEATS_PER_REQUEST,
  PurchaseSeatsInputSchema,
  ReleaseSeatsInputSchema,
  UnassignSeatInputSchema,
  type AssignSeatInput,
  type PurchaseSeatsInput,
  type ReleaseSeatsInput,
  type UnassignSeatInput,
} from './seats/seats.schema';
export {
  assignedSeats,
  freeSeats,
  holdsSeat,
  initialSeatsState,
  purchasedSeats,
  seatsDecider,
  type SeatsState,
} from './seats/seats.decider';

// Cross-aggregate
export { removeMemberPlan, type RemoveMemberPlan } from './remove-member';

// Session aggregate (meetings)
export {
  DisplayNameSchema,
  NodeRunSchema,
  LeaveReasonSchema,
  MediaKindSchema,
  MeetingTitleSchema,
  SESSION_EVENT_DATA_SCHEMAS,
  SessionEndReasonSchema,
  type LeaveReason,
  type MediaKind,
  type SessionEndReason,
  type SessionEvent,
  type SessionEventType,
} from './session/session.events';
export { MAX_LEAVE_BACKDATE_MS } from './session/session.commands';
export type {
  EndEmptySession,
  EndSession,
  JoinSession,
  LeaveSession,
  LockSession,
  Moderator,
  MuteParticipant,
  OrgFacts,
  RemoveParticipant,
  ScheduleSession,
  SessionCommand,
  UnlockSession,
} from './session/session.commands';
export {
  CreateMeetingInputSchema,
  JoinMeetingInputSchema,
  ListMeetingsInputSchema,
  MeetingRefInputSchema,
  MuteParticipantInputSchema,
  RemoveParticipantInputSchema,
  type CreateMeetingInput,
  type JoinMeetingInput,
  type ListMeetingsInput,
  type MeetingRefInput,
  type MuteParticipantInput,
  type RemoveParticipantInput,
} from './session/session.schema';
export {
  initialSessionState,
  presentParticipants,
  sessionDecider,
  type PresentParticipant,
  type Session,
  type SessionState,
  type SessionStatus,
} from './session/session.decider';
export {
  CLOUD_EVENT_TYPE_PREFIX,
  PUBLIC_EVENTS,
  PUBLIC_EVENT_TYPES,
  isPublicEventType,
  publicTypeOfCloudEventType,
  toPublicEvent,
  type LoggedEvent,
  type PublicEvent,
  type PublicEventRegistration,
  type PublicEventType,
} from './contract/public-events';
export {
  CLOUD_EVENT_SCHEMA_PATH,
  SCHEMA_INDEX_PATH,
  cloudEventJsonSchema,
  publicEventDataJsonSchema,
  publicSchemas,
  type JsonSchemaDocument,
} from './contract/json-schemas';
