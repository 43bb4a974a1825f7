import { LOCAL_ENV, localSettings } from '../../localstack/settings';

describe('localSettings: the table format of the local lake', () => {
  test('delta unless LAKEHOUSE_TABLE_FORMAT says iceberg', () => {
    expect(localSettings({}).tableFormat).toBe('delta');
    expect(localSettings({ [LOCAL_ENV.tableFormat]: 'iceberg' }).tableFormat).toBe('iceberg');
  });

  test('anything else is a clear error naming the variable', () => {
    expect(() => localSettings({ [LOCAL_ENV.tableFormat]: 'hudi' })).toThrow(
      'LAKEHOUSE_TABLE_FORMAT is "hudi": use delta or iceberg',
    );
  });
});
