import fc from 'fast-check';
import { STATUS_CODES } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { RawAnswer, RawRequest } from './raw-http';

/**
 * A property-based generator of requests over every route of the api (UDIL, MCS, admin, health,
 * metrics, Bull Board, and paths that are none of them), with fast-check: bodies (JSON, forms,
 * multipart, raw bytes, oversized, deeply nested), content types and charsets, encodings (gzip and
 * deflate real or not), headers and credentials, path and query parameters, all mixing valid
 * values with hostile ones (NUL, unpaired surrogates, invalid percent-escapes, long and odd text).
 * Used by test/api-fuzz.e2e-spec.ts and by the fault suite.
 */

/** One route as the OpenAPI document (/docs-json) describes it. */
export interface FuzzRoute {
  method: string;
  /** `/admin/gateways/{id}` */
  path: string;
  pathParameters: string[];
  queryParameters: string[];
  /** Fields of the JSON body the route expects, when the document names them. */
  bodyFields: string[];
}

/** Credentials and ids that exist on the api under test, so that requests get past authentication. */
export interface FuzzContext {
  udilPrivatekey: string;
  udilUser: { username: string; password: string; code: string };
  adminToken: string;
  adminBasic: { username: string; password: string };
  mcsBasic: { username: string; password: string };
  /** Ids the path parameters pick from now and then (gateways, clients, devices…). */
  knownIds: string[];
  /** Source addresses of requests with wrong credentials (each is throttled on its own). */
  guessingAddresses: string[];
}

interface OpenApiOperation {
  parameters?: { in: string; name: string }[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
}

/** Fields of UDIL requests (UDIL 2019 and 3.x), which the OpenAPI document does not list (forms). */
export const UDIL_FIELDS = [
  'global_device_id',
  'device_identity',
  'request_datetime',
  'relay_operate',
  'load_limit',
  'maximum_retries',
  'retry_interval',
  'threshold_duration',
  'retry_clear_interval',
  'start_datetime',
  'end_datetime',
  'load_shedding_slabs',
  'tou_day_profile',
  'tou_week_profile',
  'tou_season_profile',
  'tou_holiday_profile',
  'tou_activation_datetime',
  'time_slab',
  'activation_datetime',
  'data_type',
  'sampling_interval',
  'sampling_initial_time',
  'primary_ip_address',
  'secondary_ip_address',
  'primary_port',
  'secondary_port',
  'optical_port_on_datetime',
  'optical_port_off_datetime',
  'wakeup_number_1',
  'wakeup_number_2',
  'wakeup_number_3',
  'meter_activation_status',
  'type',
  'transactionid',
  'privatekey',
  'page',
  'page_size',
  'dsn',
  'communication_mode',
  'bidirectional_device',
  'communication_type',
  'mdi_reset_date',
  'mdi_reset_time',
  'sim_number',
  'sim_id',
  'phase',
  'meter_type',
  'initial_communication_time',
  'communication_interval',
];

/** Fields of MCS collection requests (the OpenAPI document has the body as a bare object). */
export const MCS_FIELDS = [
  'requestReference',
  'responseUrl',
  'mpan',
  'priority',
  'delayUntil',
  'meterType',
  'remoteAddress',
  'comsSettings',
  'outstationAddress',
  'serialNumber',
  'password',
  'surveyDays',
  'surveyDate',
  'adjustTime',
];

/** Every route of the OpenAPI document, plus those it does not describe. */
export function fuzzRoutes(document: OpenApiDocument): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = operation.parameters ?? [];
      const reference = Object.values(operation.requestBody?.content ?? {})[0]?.schema?.$ref;
      const schema = reference ? document.components?.schemas?.[reference.split('/').pop()!] : undefined;
      const isUdil = !path.startsWith('/admin') && !path.startsWith('/mcs') && !path.startsWith('/health');
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParameters: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParameters: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: schema?.properties
          ? Object.keys(schema.properties)
          : path.startsWith('/mcs')
            ? MCS_FIELDS
            : isUdil
              ? UDIL_FIELDS
              : [],
      });
    }
  }
  const extra: [string, string, string[]][] = [
    ['GET', '/metrics', []],
    ['GET', '/admin/queues/api/queues', []],
    ['PUT', '/admin/queues/api/queues/{queue}/pause', ['queue']],
    ['PUT', '/admin/queues/api/queues/{queue}/resume', ['queue']],
    ['GET', '/admin/queues/api/queues/{queue}/{jobId}', ['queue', 'jobId']],
    ['POST', '/{unknown}', ['unknown']],
    ['GET', '/mcs/{unknown}', ['unknown']],
  ];
  for (const [method, path, pathParameters] of extra)
    routes.push({ method, path, pathParameters, queryParameters: [], bodyFields: [] });
  return routes;
}

// ---------------------------------------------------------------------------------------------------
// Values

const LONE_SURROGATE = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Text a client may send: plain, unicode, with NUL or unpaired surrogates, long, quoted, JSON-looking. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`),
  fc.tuple(fc.string({ maxLength: 8 }), LONE_SURROGATE).map(([a, s]) => `${a}${s}`),
  fc.constantFrom(
    '',
    ' ',
    '2026-11-21 10:00:00',
    '"2026-11-21 10:00:00"',
    '2026-02-30 25:61:61',
    '["m1","m2"]',
    '[',
    '{"a":',
    'm1',
    '0',
    '1',
    '-1',
    '1e309',
    'NaN',
    'null',
    'true',
    "'; DROP TABLE devices; --",
    'INST',
    'lpro',
    '10.2.34.4:3400',
    '::1',
    'https://127.0.0.1:9/x',
    '%00',
    '\\u0000',
    '😀',
    '\ud83d',
  ),
  fc.nat({ max: 5000 }).map((n) => 'x'.repeat(n)),
);

/** Nested arrays `depth` deep around a value. */
const deeplyNested = fc
  .tuple(fc.integer({ min: 20, max: 6000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => ({ depth, open }));

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileText },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'value' },
    { weight: 6, arbitrary: scalar },
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Valid-looking requests, mutated one field at a time, reach past validation into the services. */
function template(route: FuzzRoute, unique: string): Record<string, unknown> {
  if (route.path === '/mcs/collection-request')
    return {
      requestReference: `fuzz-${unique}`,
      responseUrl: 'http://127.0.0.1:9/master',
      mpan: '12345',
      priority: 1,
      meterType: 'ABB_G13',
      remoteAddress: '10.2.34.4:3400',
      serialNumber: '12345678',
      surveyDays: 2,
      adjustTime: true,
    };
  if (route.path.startsWith('/admin'))
    return { name: 'fuzz', driver: 'ABB_G13', endpoint: 'https://127.0.0.1:1', username: 'fuzz_user' };
  return {
    global_device_id: '["m1","m2"]',
    request_datetime: '2026-11-21 10:00:00',
    relay_operate: '1',
    type: 'INST',
    start_datetime: '2026-11-01 00:00:00',
    end_datetime: '2026-11-02 00:00:00',
  };
}

const bodyObject = (route: FuzzRoute): fc.Arbitrary<Record<string, unknown>> => {
  const fields = route.bodyFields.length > 0 ? fc.constantFrom(...route.bodyFields) : hostileText;
  return fc.oneof(
    fc.dictionary(fc.oneof({ weight: 3, arbitrary: fields }, hostileText), value, { maxKeys: 8 }),
    fc
      .tuple(fc.array(fc.tuple(fields, value), { maxLength: 2 }), fc.boolean(), fc.uuid())
      .map(([changes, drop, unique]) => {
        const body = template(route, unique);
        for (const [field, changed] of changes) {
          if (drop) delete body[field];
          else body[field] = changed;
        }
        return body;
      }),
  );
};

// ---------------------------------------------------------------------------------------------------
// Encodings

/** Percent-encodes text, writing what is not Unicode as the replacement character's bytes. */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function formEncode(body: Record<string, unknown>): string {
  return Object.entries(body)
    .map(([key, field]) => {
      const text = typeof field === 'string' ? field : JSON.stringify(field);
      return `${percentEncode(key)}=${percentEncode(text ?? '')}`;
    })
    .join('&');
}

function multipartEncode(body: Record<string, unknown>, boundary: string, withFile: boolean): string {
  const parts = Object.entries(body).map(([key, field]) => {
    const text = typeof field === 'string' ? field : JSON.stringify(field);
    return `--${boundary}\r\nContent-Disposition: form-data; name="${key.replace(/["\r\n]/g, '_')}"\r\n\r\n${text ?? ''}\r\n`;
  });
  if (withFile)
    parts.push(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n`,
    );
  return `${parts.join('')}--${boundary}--\r\n`;
}

type BodyShape =
  | { kind: 'none' }
  | { kind: 'json'; body: unknown; charset?: string }
  | { kind: 'deep'; depth: number; open: string }
  | { kind: 'form'; body: Record<string, unknown>; nestedDepth: number }
  | { kind: 'multipart'; body: Record<string, unknown>; withFile: boolean; truncated: boolean }
  | { kind: 'bytes'; bytes: Uint8Array; contentType: string }
  | { kind: 'oversized'; size: number };

const bodyShape = (route: FuzzRoute): fc.Arbitrary<BodyShape> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant<BodyShape>({ kind: 'none' }) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.oneof({ weight: 4, arbitrary: bodyObject(route) }, value),
          fc.oneof(
            { weight: 8, arbitrary: fc.constant(undefined) },
            fc.constantFrom('utf-8', 'UTF-8', 'utf8', 'latin1', 'utf-16le', 'klingon'),
          ),
        )
        .map(([body, charset]): BodyShape => ({ kind: 'json', body, charset })),
    },
    deeplyNested.map((deep): BodyShape => ({ kind: 'deep', ...deep })),
    {
      weight: 3,
      arbitrary: fc
        .tuple(bodyObject(route), fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat({ max: 50 })))
        .map(([body, nestedDepth]): BodyShape => ({ kind: 'form', body, nestedDepth })),
    },
    fc
      .tuple(bodyObject(route), fc.boolean(), fc.boolean())
      .map(([body, withFile, truncated]): BodyShape => ({ kind: 'multipart', body, withFile, truncated })),
    fc
      .tuple(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'application/x-www-form-urlencoded',
          'text/plain',
          'application/xml',
          'application/octet-stream',
          'multipart/form-data',
          'multipart/form-data; boundary=',
          '*/*',
          ';;;',
        ),
      )
      .map(([bytes, contentType]): BodyShape => ({ kind: 'bytes', bytes, contentType })),
    fc.integer({ min: 40_000, max: 120_000 }).map((size): BodyShape => ({ kind: 'oversized', size })),
  );

const contentEncoding = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>(undefined) },
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'GZIP', 'compress', 'x-unknown', 'gzip, gzip'),
);

/** A gzip / deflate header on a body that really is compressed (true) or is not (false). */
const encodeForReal = fc.boolean();

function render(
  shape: BodyShape,
  encoding: string | undefined,
  compress: boolean,
): { body?: Buffer; headers: Record<string, string> } {
  let body: Buffer | undefined;
  const headers: Record<string, string> = {};
  switch (shape.kind) {
    case 'none':
      break;
    case 'json':
      body = Buffer.from(JSON.stringify(shape.body) ?? 'null');
      headers['content-type'] = `application/json${shape.charset ? `; charset=${shape.charset}` : ''}`;
      break;
    case 'deep':
      body = Buffer.from(
        `{"name":${shape.open.repeat(shape.depth)}1${(shape.open === '[' ? ']' : '}').repeat(shape.depth)}}`,
      );
      headers['content-type'] = 'application/json';
      break;
    case 'form': {
      const nested = shape.nestedDepth > 0 ? `&a${'[b]'.repeat(shape.nestedDepth)}=1` : '';
      body = Buffer.from(formEncode(shape.body) + nested);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      break;
    }
    case 'multipart': {
      const text = multipartEncode(shape.body, 'FuzzBoundary', shape.withFile);
      body = Buffer.from(shape.truncated ? text.slice(0, Math.floor(text.length / 2)) : text);
      headers['content-type'] = 'multipart/form-data; boundary=FuzzBoundary';
      break;
    }
    case 'bytes':
      body = Buffer.from(shape.bytes);
      headers['content-type'] = shape.contentType;
      break;
    case 'oversized':
      body = Buffer.from(JSON.stringify({ global_device_id: 'x'.repeat(shape.size) }));
      headers['content-type'] = 'application/json';
      break;
  }
  if (body && encoding) {
    headers['content-encoding'] = encoding;
    if (compress && encoding.toLowerCase() === 'gzip') body = gzipSync(body);
    if (compress && encoding === 'deflate') body = deflateSync(body);
  }
  return { body, headers };
}

// ---------------------------------------------------------------------------------------------------
// Headers, paths, queries

/** Header values Node's client accepts: visible ASCII and Latin-1, no CR, LF or NUL. */
const headerText = fc.string({
  unit: fc
    .oneof(
      { weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      fc.integer({ min: 0xa0, max: 0xff }),
    )
    .map((code) => String.fromCharCode(code)),
  maxLength: 80,
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

type Credentials = { valid: boolean; headers: Record<string, string> };

const credentials = (route: FuzzRoute, context: FuzzContext): fc.Arbitrary<Credentials> => {
  const wrong = fc.oneof(
    fc.constant<Record<string, string>>({}),
    headerText.map((text) => ({ authorization: text })),
    fc.tuple(hostileText, hostileText).map(([u, p]) => ({ authorization: basic(u, p) })),
    headerText.map((text) => ({ authorization: `Bearer ${text}` })),
    headerText.map((text) => ({ privatekey: text })),
  );
  let right: fc.Arbitrary<Record<string, string>>;
  if (route.path.startsWith('/admin'))
    right = fc.constantFrom(
      { authorization: `Bearer ${context.adminToken}` },
      { authorization: basic(context.adminBasic.username, context.adminBasic.password) },
    );
  else if (route.path.startsWith('/mcs'))
    right = fc.constant({ authorization: basic(context.mcsBasic.username, context.mcsBasic.password) });
  else if (route.path === '/authorization_service') right = fc.constant({ ...context.udilUser });
  else right = fc.constant({ privatekey: context.udilPrivatekey });
  return fc.oneof(
    { weight: 5, arbitrary: right.map((headers) => ({ valid: true, headers })) },
    wrong.map((headers) => ({ valid: false, headers })),
  );
};

const pathSegment = (context: FuzzContext): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...context.knownIds) },
    { weight: 3, arbitrary: hostileText.map(percentEncode) },
    fc.constantFrom('%', '%zz', '%E0', '%ED%A0%80', '%C0%AF', '%00', '..', '%2F', '%2e%2e', '%20'),
    fc.uuid(),
  );

const query = (route: FuzzRoute): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        route.queryParameters.length > 0
          ? fc.oneof(fc.constantFrom(...route.queryParameters), hostileText)
          : hostileText,
        fc.oneof(hostileText.map(percentEncode), fc.constantFrom('%E0', '%00', '[]', '1', '0', '-1', 'x')),
      ),
      { maxLength: 3 },
    )
    .map((pairs) =>
      pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${percentEncode(k)}=${v}`).join('&')}`,
    );

/** A generated request, with where it comes from and whether it carries the right credentials. */
export interface FuzzCase {
  route: FuzzRoute;
  request: RawRequest;
  validCredentials: boolean;
}

/** Requests over `routes` (a route chosen uniformly, then everything else about the request). */
export function fuzzCaseArbitrary(routes: FuzzRoute[], context: FuzzContext): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 9, arbitrary: fc.constant(route.method) },
          fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        ),
        segments: fc.array(pathSegment(context), {
          minLength: route.pathParameters.length,
          maxLength: route.pathParameters.length,
        }),
        query: query(route),
        credentials: credentials(route, context),
        shape: bodyShape(route),
        encoding: contentEncoding,
        compress: encodeForReal,
        transactionid: fc.oneof(
          { weight: 4, arbitrary: fc.uuid() },
          headerText,
          fc.constant(undefined),
          fc.nat({ max: 200 }).map((n) => `t${'x'.repeat(n)}`),
        ),
        accept: fc.constantFrom(undefined, 'application/json', 'application/xml', 'text/xml', '*/*'),
        address: fc.constantFrom(...context.guessingAddresses),
      })
      .map((generated): FuzzCase => {
        let path = route.path;
        route.pathParameters.forEach((name, index) => {
          path = path.replace(`{${name}}`, generated.segments[index]);
        });
        const { body, headers } = render(generated.shape, generated.encoding, generated.compress);
        const request: RawRequest = {
          method: generated.method,
          path: `${path}${generated.query}`,
          headers: {
            ...headers,
            ...generated.credentials.headers,
            ...(generated.transactionid !== undefined ? { transactionid: generated.transactionid } : {}),
            ...(generated.accept ? { accept: generated.accept } : {}),
          },
          body,
          // Wrong credentials come from addresses of their own, which the throttle refuses one by one.
          localAddress: generated.credentials.valid ? undefined : generated.address,
        };
        return { route, request, validCredentials: generated.credentials.valid };
      }),
  );
}

/** What is wrong with an answer, or undefined: a 5xx, or a 4xx without a message in its API's envelope. */
export function answerProblem(request: RawRequest, answer: RawAnswer): string | undefined {
  const path = request.path.split('?')[0];
  // The one documented 5xx: an admin action on a gateway that cannot be reached (discovery,
  // rediscovery of a meter) is a 502 naming the gateway and the kind of failure.
  const failureMessage = (answer.json as { message?: unknown } | undefined)?.message;
  const gatewayFailure = typeof failureMessage === 'string' ? failureMessage : '';
  const documented =
    answer.status === 502 && path.startsWith('/admin/gateways/') && /^.+ \([a-z-]+\): /.test(gatewayFailure);
  if (answer.status >= 500 && !documented) return `answered ${answer.status}`;
  if (answer.status < 400) return undefined;
  // Bull Board's own API answers in its own JSON ({"error": …}): only its status is checked.
  if (path.startsWith('/admin/queues/')) return undefined;
  const isMcs = path === '/mcs' || path.startsWith('/mcs/');
  let text: unknown;
  if (/xml/.test(String(answer.headers['content-type']))) {
    // UDIL answers in XML when asked: <root><status>0</status><message>…</message></root>
    text = /<message>([^<]*)<\/message>/.exec(answer.text)?.[1];
  } else {
    const body = answer.json as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return `answered ${answer.status} without a JSON body`;
    const message = isMcs ? body.details : body.message;
    text = Array.isArray(message) ? message.join('; ') : message;
  }
  if (typeof text !== 'string' || text.trim() === '')
    return `answered ${answer.status} without a ${isMcs ? 'details' : 'message'}`;
  // A bare status text ("Bad Request") names nothing.
  if (Object.values(STATUS_CODES).includes(text))
    return `answered ${answer.status} "${text}", naming nothing`;
  if (/^internal error/.test(text)) return `answered ${answer.status} with an internal error`;
  return undefined;
}
