/** `@quorum/webhooks`: what outbound webhook deliveries share (the address guard, signing). */
export {
  UnsafeEndpointError,
  addressRefusal,
  assertPublicEndpoint,
  checkEndpointUrl,
  guardedLookup,
  type OutboundPolicy,
  type Resolver,
} from './url-guard';
export { generateWebhookSecret, signWebhook, webhookHeaders, webhookSecretKey, type SignedContent } from './signature';
export {
  DEFAULT_TIMEOUT_MS,
  RESPONSE_EXCERPT_BYTES,
  createWebhookSender,
  type SendErrorKind,
  type SendOutcome,
  type WebhookSender,
  type WebhookSenderOptions,
} from './send';
