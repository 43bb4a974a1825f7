import type { DatasetDefinition } from '../types';

export const insuranceClaims = {
  name: 'insurance_claims',
  title: 'InsuranceClaim',
  label: 'Insurance claim',
  route: '/ingest-insurance-claim',
  idField: 'claim_id',
  eventTimeField: 'timestamp',
  schemaVersion: 1,
  fields: {
    claim_id: {
      kind: 'string',
      required: true,
      minLength: 1,
      description: 'Unique id of the claim; the Kafka key and the curated merge key.',
      example: 'clm-000987',
    },
    timestamp: {
      kind: 'timestamp',
      required: true,
      description: 'When the claim event was recorded (ISO-8601; no offset means UTC).',
      example: '2024-01-15T10:30:00.123456',
    },
    policy_number: {
      kind: 'string',
      required: true,
      description: 'Policy the claim is made on.',
      example: 'POL-1001',
    },
    claim_amount: {
      kind: 'money',
      required: true,
      minimum: 0,
      description: 'Amount claimed (never negative).',
      example: 2500,
    },
    claim_type: {
      kind: 'string',
      required: true,
      knownValues: ['auto', 'health', 'home', 'life', 'property', 'travel'],
      description: 'Line of business of the claim.',
      example: 'auto',
    },
    claim_status: {
      kind: 'string',
      required: true,
      knownValues: ['submitted', 'under_review', 'approved', 'rejected', 'paid', 'closed'],
      description: 'Where the claim is in its life cycle.',
      example: 'submitted',
    },
    customer_id: {
      kind: 'string',
      required: true,
      description: 'Customer who made the claim.',
      example: 'cust-9',
    },
    incident_date: {
      kind: 'date_or_timestamp',
      required: true,
      description: 'When the incident happened (ISO-8601 date or date-time).',
      example: '2024-01-10',
    },
  },
  streamingWindow: { groupBy: ['claim_type', 'claim_status'], measure: 'claim_amount' },
} as const satisfies DatasetDefinition;
