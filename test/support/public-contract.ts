/**
 * Checks public events as an integrator would: with a standard JSON Schema validator (ajv,
 * draft 2020-12, formats on) loaded with the schemas the gateway serves under `/schemas/`, by
 * the URLs each envelope carries. Every test that receives public events (`/v1/events`, its
 * stream, webhooks) runs them through {@link expectPublicEvent}.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { CLOUD_EVENT_SCHEMA_PATH, publicSchemas } from '@quorum/domain';
import { expect } from 'vitest';

export type PublicContractValidator = ReturnType<typeof publicContractValidator>;

/** A validator holding every schema of the contract, with `$id`s under `baseUrl`. */
export function publicContractValidator(baseUrl: string) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const [, schema] of publicSchemas(baseUrl)) if ('$id' in schema) ajv.addSchema(schema);
  return { ajv, envelopeSchema: `${baseUrl.replace(/\/+$/, '')}${CLOUD_EVENT_SCHEMA_PATH}` };
}

/** Fails unless `envelope` is valid against the envelope schema and its data against `dataschema`. */
export function expectPublicEvent(validator: PublicContractValidator, envelope: unknown): void {
  const { ajv, envelopeSchema } = validator;
  const envelopeOk = ajv.validate(envelopeSchema, envelope);
  expect(ajv.errors ?? [], 'envelope').toEqual([]);
  expect(envelopeOk).toBe(true);
  const { dataschema, data } = envelope as { dataschema: string; data: unknown };
  expect(ajv.getSchema(dataschema), `a schema at ${dataschema}`).toBeTruthy();
  const dataOk = ajv.validate(dataschema, data);
  expect(ajv.errors ?? [], dataschema).toEqual([]);
  expect(dataOk).toBe(true);
}
