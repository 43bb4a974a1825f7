import type { DatasetDefinition } from '../types';

/**
 * IoT sensor readings, the streaming windows' first dataset (as the IoT streaming ETL this platform
 * generalises); added as any dataset is: this definition plus one registry entry (registry.ts).
 */
export const iotSensorEvents = {
  name: 'iot_sensor_events',
  title: 'IotSensorEvent',
  label: 'IoT sensor event',
  route: '/ingest-iot-sensor-event',
  idField: 'event_id',
  eventTimeField: 'timestamp',
  schemaVersion: 1,
  fields: {
    event_id: {
      kind: 'string',
      required: true,
      minLength: 1,
      description: 'Unique id of the event.',
      example: 'evt-1',
    },
    device_id: {
      kind: 'string',
      required: true,
      description: 'Device that emitted the event.',
      example: 'dev-17',
    },
    device_type: {
      kind: 'string',
      required: true,
      knownValues: ['thermometer', 'hygrometer', 'pressure', 'flow'],
      description: 'Kind of device.',
      example: 'thermometer',
    },
    timestamp: {
      kind: 'timestamp',
      required: true,
      description: 'When it was measured.',
      example: '2024-01-15T10:30:00Z',
    },
    value: { kind: 'number', required: true, description: 'Measured value.', example: 21.5 },
    status: {
      kind: 'string',
      required: true,
      knownValues: ['ok', 'warning', 'error'],
      description: 'Device status.',
      example: 'ok',
    },
    metadata: {
      kind: 'json',
      required: false,
      description: 'Free-form device metadata.',
      example: { firmware: '1.2.0' },
    },
  },
  streamingWindow: { groupBy: ['device_type'], measure: 'value' },
} as const satisfies DatasetDefinition;
