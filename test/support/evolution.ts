import { type DatasetDefinition, financialTransactions } from '../../schemas';

/**
 * financial_transactions as a compatible change would make its v2: one optional field added, marked with
 * the version that added it. Test-only: the platform's datasets stay at their published versions.
 */
export const financialTransactionsV2 = {
  ...financialTransactions,
  schemaVersion: 2,
  fields: {
    ...financialTransactions.fields,
    channel: {
      kind: 'string',
      required: false,
      since: 2,
      description: 'Where the payment was made.',
      example: 'web',
    },
  },
} as const satisfies DatasetDefinition;
