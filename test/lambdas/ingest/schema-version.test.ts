import { createRegistry, financialTransactions } from '../../../schemas';
import { compileValidator } from '../../../schemas/ajv-compile';
import { batchRouteOf } from '../../../schemas/api/openapi';
import { financialTransactionsV2 } from '../../support/evolution';
import { coreWith, exampleRecord, post } from './support';

const v2 = financialTransactionsV2;

const { core, memory } = coreWith({ registry: createRegistry([v2], { compile: compileValidator }) });
const txn = { ...exampleRecord(financialTransactions), channel: 'app' };
const route = financialTransactions.route;
const lastMessage = () => {
  const message = memory.sends.at(-1)?.messages.at(-1);
  return { version: message?.headers?.['schema-version'], value: JSON.parse(message?.value ?? '{}') };
};

describe('the API takes the previous and the latest schema version during a rollout', () => {
  test('no X-Schema-Version: the latest, and the new field reaches Kafka', async () => {
    const { response } = await core(post(route, txn));
    expect(response.statusCode).toBe(200);
    expect(lastMessage()).toEqual({ version: '2', value: expect.objectContaining({ channel: 'app' }) });
  });

  test('X-Schema-Version: 1 is judged by v1, which ignores the v2 field as any unknown field', async () => {
    const { response } = await core(post(route, txn, { 'x-schema-version': '1' }));
    expect(response.statusCode).toBe(200);
    const { version, value } = lastMessage();
    expect(version).toBe('1');
    expect(value).not.toHaveProperty('channel');
  });

  test('a v2 value of the wrong type is refused under v2 and ignored under v1', async () => {
    const wrong = { ...txn, channel: 42 };
    const latest = await core(post(route, wrong, { 'x-schema-version': '2' }));
    expect(latest.response.statusCode).toBe(422);
    expect(JSON.parse(latest.response.body).detail).toEqual([
      { loc: ['body', 'channel'], msg: 'Input should be a valid string', type: 'string_type' },
    ]);
    expect((await core(post(route, wrong, { 'x-schema-version': '1' }))).response.statusCode).toBe(200);
  });

  test('batches carry the version of their request', async () => {
    const { response } = await core(
      post(batchRouteOf(financialTransactions), { records: [txn, txn] }, { 'x-schema-version': '1' }),
    );
    expect(response.statusCode).toBe(200);
    expect(memory.sends.at(-1)?.messages.map((m) => m.headers?.['schema-version'])).toEqual(['1', '1']);
  });

  test.each(['3', '0', 'two', '1.0', ''])('an unknown version (%j) → 422 naming the versions', async (v) => {
    const sent = memory.sends.length;
    for (const path of [route, batchRouteOf(financialTransactions)]) {
      const { response } = await core(post(path, { records: [txn] }, { 'x-schema-version': v }));
      expect(response.statusCode).toBe(422);
      expect(JSON.parse(response.body).detail).toEqual([
        {
          loc: ['header', 'x-schema-version'],
          msg: 'Input should be a schema version of financial_transactions: 1, 2',
          type: 'literal_error',
          ctx: { expected: '1, 2' },
        },
      ]);
    }
    expect(memory.sends.length).toBe(sent);
  });
});
