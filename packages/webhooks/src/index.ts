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
