/**
 * A pass-through HTTP proxy in front of ElasticMQ that notes which notifications were sent
 * through it. Each cluster worker gets its own proxy as its SQS endpoint, so a test can tell how
 * many notifications each worker process delivered. Nothing is stubbed: every request goes to the
 * real ElasticMQ unchanged and its answer comes back unchanged; the proxy only reads the
 * SendMessage / SendMessageBatch requests (AWS JSON protocol) that ElasticMQ accepted.
 */
import { createServer, request, Agent, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SqsCountingProxy {
  /** Give this to a worker as AWS_ENDPOINT_URL_SQS. */
  endpoint: string;
  /** The notificationId attribute of every message ElasticMQ accepted through this proxy. */
  readonly sentIds: ReadonlySet<string>;
  /** Messages accepted (a retry of the same notification counts again). */
  readonly sends: number;
  /** SendMessage and SendMessageBatch requests ElasticMQ answered with 200 (a batch counts once). */
  readonly sendRequests: number;
  stop(): Promise<void>;
}

interface SendRequest {
  MessageAttributes?: Record<string, { StringValue?: string }>;
  Entries?: { Id: string; MessageAttributes?: Record<string, { StringValue?: string }> }[];
}

function target(headers: IncomingHttpHeaders): string {
  const value = headers['x-amz-target'];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

export async function startSqsCountingProxy(upstreamEndpoint: string): Promise<SqsCountingProxy> {
  const upstream = new URL(upstreamEndpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sentIds = new Set<string>();
  let sends = 0;
  let sendRequests = 0;

  const server = createServer((incoming, outgoing) => {
    const requestChunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => requestChunks.push(chunk));
    incoming.on('end', () => {
      const requestBody = Buffer.concat(requestChunks);
      const forwarded = request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
        (answer) => {
          const answerChunks: Buffer[] = [];
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('data', (chunk: Buffer) => {
            answerChunks.push(chunk);
            outgoing.write(chunk);
          });
          answer.on('end', () => {
            outgoing.end();
            if (answer.statusCode === 200) note(target(incoming.headers), requestBody, Buffer.concat(answerChunks));
          });
        },
      );
      forwarded.on('error', (error) => {
        outgoing.writeHead(502);
        outgoing.end(String(error));
      });
      forwarded.end(requestBody);
    });
  });

  const note = (action: string, requestBody: Buffer, answerBody: Buffer) => {
    if (action === 'AmazonSQS.SendMessage' || action === 'AmazonSQS.SendMessageBatch') sendRequests += 1;
    try {
      if (action === 'AmazonSQS.SendMessage') {
        const sent = JSON.parse(requestBody.toString()) as SendRequest;
        const id = sent.MessageAttributes?.notificationId?.StringValue;
        if (id) sentIds.add(id);
        sends += 1;
      } else if (action === 'AmazonSQS.SendMessageBatch') {
        const sent = JSON.parse(requestBody.toString()) as SendRequest;
        const accepted = new Set(((JSON.parse(answerBody.toString()) as { Successful?: { Id: string }[] }).Successful ?? []).map((entry) => entry.Id));
        for (const entry of sent.Entries ?? []) {
          if (!accepted.has(entry.Id)) continue;
          const id = entry.MessageAttributes?.notificationId?.StringValue;
          if (id) sentIds.add(id);
          sends += 1;
        }
      }
    } catch {
      // not JSON: not a send this proxy understands
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sentIds,
    get sends() {
      return sends;
    },
    get sendRequests() {
      return sendRequests;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
