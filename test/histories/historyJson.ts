/**
 * A history as `temporal workflow show -o json` prints it, read into the SDK's History message.
 *
 * The SDK's own reader (historyFromJSON of @temporalio/common) fails here with "type must be a Type":
 * npm installed @temporalio/common and @temporalio/proto each with a copy of protobufjs 8 of its own
 * (the top level holds grpc's protobufjs 7), and the reader checks @temporalio/proto's types against
 * its own copy. The same reader (protobufjs's protojson) taken from @temporalio/proto's copy reads
 * the JSON into @temporalio/proto's History.
 */
import { dirname } from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type Protojson = { fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown };

const protoPackageDir = dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoPackageDir] })) as Protojson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyFromCliJson(json: unknown): proto.temporal.api.history.v1.IHistory {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history as proto.temporal.api.history.v1.IHistory;
}
