import type { DatasetDefinition } from '../types';

export const financialTransactions = {
  name: 'financial_transactions',
  title: 'FinancialTransaction',
  label: 'Financial transaction',
  route: '/ingest-financial-transaction',
  idField: 'transaction_id',
  eventTimeField: 'timestamp',
  schemaVersion: 1,
  fields: {
    transaction_id: {
      kind: 'string',
      required: true,
      minLength: 1,
      description: 'Unique id of the transaction; the Kafka key and the curated merge key.',
      example: 'txn-000123',
    },
    timestamp: {
      kind: 'timestamp',
      required: true,
      description: 'When the transaction happened (ISO-8601; no offset means UTC).',
      example: '2024-01-15T10:30:00.123456',
    },
    account_id: {
      kind: 'string',
      required: true,
      description: 'Account the transaction belongs to.',
      example: 'acc-42',
    },
    amount: { kind: 'money', required: true, description: 'Amount in the given currency.', example: 125.5 },
    currency: { kind: 'currency', required: true, description: 'ISO-4217 currency code.', example: 'USD' },
    transaction_type: {
      kind: 'string',
      required: true,
      knownValues: ['debit', 'credit', 'transfer', 'payment', 'deposit', 'withdrawal', 'refund'],
      description: 'Kind of transaction.',
      example: 'debit',
    },
    merchant_id: {
      kind: 'string',
      required: false,
      description: 'Merchant, when there is one.',
      example: 'm-7',
    },
    category: { kind: 'string', required: false, description: 'Spending category.', example: 'groceries' },
  },
  streamingWindow: { groupBy: ['transaction_type', 'currency'], measure: 'amount' },
} as const satisfies DatasetDefinition;
