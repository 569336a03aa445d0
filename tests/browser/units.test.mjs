// The UI's pure functions, run in Node (no browser): the span tree, the
// quantile estimate, units and durations, OTLP JSON conversion, attribute
// condition parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, callTarget, flatten } from '../../web/js/pages/trace.js';
import { bucketQuantile, chooseStep, commonAttributes, labelSeries, percentilesShown, stepText, typeLabel } from '../../web/js/pages/metrics.js';
import { fmtDuration, fmtUnit, fmtAxis, fmtNumber, nsToMs, severityOf, attrLabel, bodyText } from '../../web/js/format.js';
import { anyValue, traceToOtlp } from '../../web/js/otlp.js';
import { parseAttrFilter } from '../../web/js/components.js';
import { attrGroup, groupAttrKeys, isErrorAttr } from '../../web/js/semconv.js';
import { logKey } from '../../web/js/pages/logs.js';
import { mergeByTime } from '../../web/js/order.js';
import { groupByRoot, sortTraces, traceServices } from '../../web/js/pages/traces.js';
import { durationScale, timeTicks } from '../../web/js/scatter.js';
import { withResources } from '../../web/js/api.js';

const span = (id, parent, start, end, extra = {}) => ({
  traceId: 'a'.repeat(32), spanId: id, parentSpanId: parent, name: `s${id}`, kind: 'INTERNAL',
  startTimeUnixNano: String(start), endTimeUnixNano: String(end), status: { code: 'UNSET' }, ...extra,
});

test('buildTree: nesting, child order by start, orphans as roots, bounds', () => {
  const t = buildTree([
    span('r', '', 100, 900), span('b', 'r', 300, 400), span('a', 'r', 200, 250),
    span('c', 'a', 210, 220), span('o', 'missing', 50, 60),
  ]);
  assert.deepEqual(t.roots.map((n) => n.span.spanId), ['o', 'r'], 'roots by start; an orphan is a root');
  assert.deepEqual(flatten(t.roots, new Set()).map((n) => [n.span.spanId, n.depth]),
    [['o', 0], ['r', 0], ['a', 1], ['c', 2], ['b', 1]]);
  assert.equal(t.start, 50n);
  assert.equal(t.end, 900n);
  assert.deepEqual(flatten(t.roots, new Set(['a'])).map((n) => n.span.spanId), ['o', 'r', 'a', 'b'], 'collapsed subtree hidden');
});

test('buildTree: a parent cycle and self-parenting cannot hang or lose spans', () => {
  const t = buildTree([span('x', 'y', 1, 2), span('y', 'x', 3, 4), span('s', 's', 5, 6), span('x', '', 9, 10)]);
  const ids = flatten(t.roots, new Set()).map((n) => n.span.spanId).sort();
  assert.deepEqual(ids, ['s', 'x', 'y'], 'every distinct span shown once');
});

test('buildTree: a 10,000-deep chain is handled without recursion', () => {
  const spans = [span('0', '', 0, 20000)];
  for (let i = 1; i < 10000; i++) spans.push(span(String(i), String(i - 1), i, 20000 - i));
  const rows = flatten(buildTree(spans).roots, new Set());
  assert.equal(rows.length, 10000);
  assert.equal(rows[9999].depth, 9999);
});

test('bucketQuantile matches hand-computed values', () => {
  // bounds 0.01,0.1,1 ; counts: 2 in (≤0.01), 6 in (0.01,0.1], 2 in (0.1,1], 0 above
  const b = [0.01, 0.1, 1];
  const c = [2, 6, 2, 0];
  // p50: rank 5 -> second bucket, 3 of 6 in -> 0.01 + 0.09*0.5 = 0.055
  assert.ok(Math.abs(bucketQuantile(b, c, 0.5) - 0.055) < 1e-12);
  // p90: rank 9 -> third bucket, 1 of 2 -> 0.1 + 0.9*0.5 = 0.55
  assert.ok(Math.abs(bucketQuantile(b, c, 0.9) - 0.55) < 1e-12);
  // the max closes the bucket: p90 with max 0.5 -> 0.1 + 0.4*0.5 = 0.3
  assert.ok(Math.abs(bucketQuantile(b, c, 0.9, { max: 0.5 }) - 0.3) < 1e-12);
  // overflow bucket uses the max
  assert.ok(Math.abs(bucketQuantile(b, [0, 0, 0, 4], 0.5, { max: 3 }) - 2) < 1e-12);
  assert.equal(bucketQuantile(b, [0, 0, 0, 0], 0.5), null);
  assert.equal(bucketQuantile([], [5], 0.5), null);
});

test('units and durations are formatted for people', () => {
  assert.equal(fmtUnit(0.25, 's'), '250 ms');
  assert.equal(fmtUnit(1.5, 's'), '1.5 s');
  assert.equal(fmtUnit(1536, 'By'), '1.5 KiB');
  assert.equal(fmtUnit(123456789, 'By'), '118 MiB');
  assert.equal(fmtUnit(3, '{request}'), '3 requests');
  assert.equal(fmtUnit(0.5, '{request}', { rate: true }), '0.5 requests/s');
  assert.equal(fmtUnit(12, 'ms'), '12 ms');
  assert.equal(fmtUnit(2, 'weird'), '2 weird');
  assert.equal(fmtAxis(0.5, '{request}', { rate: true }), '0.5/s');
  assert.equal(fmtDuration(999), '999 ns');
  assert.equal(fmtDuration(1500), '1.5 µs');
  assert.equal(fmtDuration(120e6), '120 ms');
  assert.equal(fmtDuration(90e9), '1 min 30 s');
  assert.equal(fmtNumber(1234567), '1.23 M');
  assert.equal(fmtNumber(0.000012), '1.20e-5');
  assert.equal(nsToMs('1700000000123456789'), 1700000000123.4568);
  assert.equal(severityOf(17).name, 'error');
  assert.equal(severityOf(0), null);
  assert.equal(attrLabel({ b: 1, a: 'x' }), 'a=x, b=1');
  assert.equal(bodyText({ k: [1, 'two'] }), '{"k":[1,"two"]}');
});

test('metrics helpers: step choice and type names', () => {
  assert.equal(chooseStep(3600e3), 30);
  assert.equal(stepText(30), '30s');
  assert.equal(stepText(300), '5m');
  assert.equal(stepText(7200), '2h');
  assert.equal(typeLabel({ type: 'sum', monotonic: true }), 'Counter');
  assert.equal(typeLabel({ type: 'sum', monotonic: false }), 'UpDownCounter');
  assert.equal(typeLabel({ type: 'histogram' }), 'Histogram');
});

test('OTLP JSON: values, kinds, status, grouping by resource and scope', () => {
  assert.deepEqual(anyValue(3), { intValue: '3' });
  assert.deepEqual(anyValue(0.5), { doubleValue: 0.5 });
  assert.deepEqual(anyValue(true), { boolValue: true });
  assert.deepEqual(anyValue(['a', 1]), { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } });
  assert.deepEqual(anyValue({ k: 'v' }), { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } });
  const res = { attributes: { 'service.name': 'a' } };
  const doc = traceToOtlp({
    spans: [
      span('1', '', 1, 2, { kind: 'SERVER', status: { code: 'ERROR', message: 'boom' }, resource: res, scope: { name: 'x', version: '1' } }),
      span('2', '1', 1, 2, { kind: 'SPAN_KIND_CLIENT', resource: res, scope: { name: 'y' } }),
      span('3', '1', 1, 2, { kind: 'CONSUMER', resource: { attributes: { 'service.name': 'b' } }, scope: { name: 'x', version: '1' } }),
    ],
  });
  assert.equal(doc.resourceSpans.length, 2);
  assert.equal(doc.resourceSpans[0].scopeSpans.length, 2);
  const s1 = doc.resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(s1.kind, 2);
  assert.deepEqual(s1.status, { code: 2, message: 'boom' });
  assert.equal(s1.parentSpanId, undefined);
  assert.equal(doc.resourceSpans[0].scopeSpans[1].spans[0].kind, 3);
  assert.equal(doc.resourceSpans[1].scopeSpans[0].spans[0].kind, 5);
});

test('withResources: items get the resource they name, one object per resource', () => {
  const body = {
    logs: [{ service: 'a', resourceId: 'r1' }, { service: 'b', resourceId: 'r2' }, { service: 'a', resourceId: 'r1' },
      { service: 'x', resourceId: 'r9' }, { service: 'live', resource: { attributes: { own: 1 } } }],
    resources: { r1: { service: 'a', attributes: { 'service.name': 'a' } }, r2: { service: 'b', attributes: { 'service.name': 'b' } } },
  };
  withResources(body);
  assert.deepEqual(body.logs.map((l) => l.resource.attributes['service.name']), ['a', 'b', 'a', undefined, undefined]);
  assert.equal(body.logs[0].resource, body.logs[2].resource, 'shared');
  assert.deepEqual(body.logs[3].resource, { attributes: {} }, 'a name missing from the map: no attributes');
  assert.deepEqual(body.logs[4].resource, { attributes: { own: 1 } }, 'an item with its own resource keeps it');
  const trace = withResources({ spans: [{ resourceId: 'r7' }], resources: { r7: { service: 's', attributes: { k: 'v' } } } });
  assert.equal(trace.spans[0].resource.attributes.k, 'v');
  assert.deepEqual(withResources({ services: [] }), { services: [] }, 'answers without resources are left alone');
});

test('attribute conditions are parsed strictly', () => {
  assert.deepEqual(parseAttrFilter('http.route=/a'), { key: 'http.route', op: '=', value: '/a', text: 'http.route=/a' });
  assert.equal(parseAttrFilter('a!=b').op, '!=');
  assert.equal(parseAttrFilter('a~sub').op, '~');
  assert.equal(parseAttrFilter('n>1.5').op, '>');
  assert.equal(parseAttrFilter('n<-2e3').value, '-2e3');
  assert.equal(parseAttrFilter('k=').value, '', 'an empty value matches the empty string');
  for (const bad of ['', 'novalue', '=v', 'n>abc', 'n<', 'k~']) assert.equal(parseAttrFilter(bad), null, bad);
});

test('a log key and trace services tolerate the shapes the API may send', () => {
  const l = { timeUnixNano: '1', observedTimeUnixNano: '2', service: 's', spanId: '', severityNumber: 9, body: { a: 1 } };
  assert.equal(logKey(l), logKey({ ...l }));
  assert.notEqual(logKey(l), logKey({ ...l, body: { a: 2 } }));
  assert.deepEqual(traceServices({ services: ['a', { name: 'b', spanCount: 2 }] }), [{ name: 'b', spanCount: 2 }, { name: 'a' }]);
  assert.deepEqual(traceServices({ rootService: 'z', services: [{ name: 'a', spanCount: 5 }, { name: 'z', spanCount: 1 }] }).map((s) => s.name), ['z', 'a'], 'root service first');
  assert.deepEqual(traceServices({ rootService: 'r' }), [{ name: 'r' }]);
});

test('live logs merge into their time position (time descending, then arrival)', () => {
  const at = (l) => BigInt(l.timeUnixNano);
  const rec = (t, b) => ({ timeUnixNano: String(t), body: b });
  const items = [rec(500, 'e'), rec(300, 'c'), rec(100, 'a')];
  const fresh = [rec(600, 'f'), rec(400, 'd'), rec(300, 'c2'), rec(200, 'b'), rec(50, 'z')];
  const all = mergeByTime(items, fresh, at, { complete: true });
  assert.deepEqual(all.items.map((l) => l.body), ['f', 'e', 'd', 'c2', 'c', 'b', 'a', 'z'], 'a later arrival of equal time goes first');
  assert.deepEqual(all.added.map((l) => l.body), ['f', 'd', 'c2', 'b', 'z']);
  // with older pages still to load, what is older than the last loaded row waits for them
  const part = mergeByTime(items, fresh, at, { complete: false });
  assert.deepEqual(part.items.map((l) => l.body), ['f', 'e', 'd', 'c2', 'c', 'b', 'a']);
  assert.ok(!part.added.some((l) => l.body === 'z'));
  assert.deepEqual(mergeByTime([], fresh.slice(0, 2), at).items.map((l) => l.body), ['f', 'd'], 'an empty list takes everything');
});

test('callTarget: callee service, peer address in its forms, nothing for other kinds', () => {
  const node = (kind, attributes, children = [], service = 'a') => ({ span: { kind, attributes, service }, children });
  assert.equal(callTarget(node('SERVER', { 'server.address': 'x' })), null);
  assert.equal(callTarget(node('CLIENT', {})), null);
  assert.equal(callTarget(node('CLIENT', { 'server.address': 'db', 'server.port': 5432 })).text, 'db:5432');
  assert.equal(callTarget(node('CLIENT', { 'server.address': '::1', 'server.port': 80 })).text, '[::1]:80');
  assert.equal(callTarget(node('CLIENT', { 'server.address': 'db' })).text, 'db');
  assert.equal(callTarget(node('CLIENT', { 'url.full': 'https://api.example:8443/x?y' })).text, 'api.example:8443');
  assert.equal(callTarget(node('CLIENT', { 'url.full': 'not a url' })), null);
  assert.equal(callTarget(node('PRODUCER', { 'messaging.destination.name': 'orders' })).text, 'orders');
  assert.equal(callTarget(node('CLIENT', { 'db.system': 'postgresql' })).text, 'postgresql');
  const t = callTarget(node('CLIENT', { 'server.address': 'b-host' }, [node('SERVER', {}, [], 'b')]));
  assert.deepEqual([t.text, t.service, t.address], ['b', 'b', 'b-host']);
  assert.equal(callTarget(node('CLIENT', { 'server.address': 'h' }, [node('INTERNAL', {}, [], 'a')])).text, 'h', 'a child of its own service is no callee');
});

test('semantic-convention groups and failure attributes', () => {
  assert.deepEqual(groupAttrKeys({ 'z.k': 1, 'url.path': '/', 'http.route': '/', 'net.peer.name': 'h', 'error.type': 'x', 'a.b': 2 })
    .map((g) => [g.title, g.keys]), [
    ['HTTP', ['http.route']], ['URL', ['url.path']], ['Server / client', ['net.peer.name']],
    ['Exception / error', ['error.type']], ['Other', ['a.b', 'z.k']]]);
  assert.equal(attrGroup('httpx.y').title, 'Other', 'the namespace is the whole first segment');
  assert.ok(isErrorAttr('http.response.status_code', 500));
  assert.ok(isErrorAttr('http.status_code', '503'));
  assert.ok(!isErrorAttr('http.response.status_code', 499));
  assert.ok(isErrorAttr('error.type', 'timeout'));
  assert.ok(!isErrorAttr('error.type', ''));
  assert.ok(!isErrorAttr('rpc.grpc.status_code', 14));
});

test('metric series: short labels from the attributes that differ, shared ones once, percentiles shown', () => {
  const s = (attributes, instance = 'i1') => ({ attributes, instance, points: [] });
  const two = [s({ m: 'GET', route: '/b', code: 200 }), s({ m: 'GET', route: '/a', code: 500 })];
  assert.deepEqual(labelSeries(two, 'x').map((x) => x.label), ['code=200, route=/b', 'code=500, route=/a'], 'sorted by label');
  assert.deepEqual(commonAttributes(two), { m: 'GET' });
  assert.deepEqual(labelSeries([s({ a: 1, b: 2 })], 'metric').map((x) => x.label), ['a=1, b=2'], 'one series: every attribute');
  assert.deepEqual(labelSeries([s({})], 'metric').map((x) => x.label), ['metric']);
  assert.deepEqual(commonAttributes([s({ a: 1 })]), {});
  // a key missing from one series differs; equal attribute sets of two instances are told apart by the instance
  assert.deepEqual(labelSeries([s({ a: 1, k: 'x' }), s({ a: 1 })], 'x').map((x) => x.label), ['(no attributes)', 'k=x']);
  assert.deepEqual(labelSeries([s({ a: 1 }, 'pod-1'), s({ a: 1 }, 'pod-2')], 'x').map((x) => x.label),
    ['service.instance.id=pod-1', 'service.instance.id=pod-2']);
  assert.deepEqual(percentilesShown('', 1), [50, 90, 99]);
  assert.deepEqual(percentilesShown('', 4), [99]);
  assert.deepEqual(percentilesShown('50,99', 4), [50, 99]);
  assert.deepEqual(percentilesShown('42', 4), [99], 'an unknown choice is the default');
});

test('trace results: sorting keeps ties in the API order; groups by root operation; scatter scales', () => {
  const t = (id, start, dur, spans, errs, root = 'r') => ({ traceId: id, startTimeUnixNano: String(start), durationNs: dur, spanCount: spans, errorCount: errs, rootService: 's', rootName: root });
  const api = [t('a', 5, 10, 1, 0), t('b', 4, 30, 2, 1, 'q'), t('c', 3, 20, 2, 0), t('d', 2, 30, 1, 1, 'q')];
  const ids = (list) => list.map((x) => x.traceId).join('');
  assert.equal(ids(sortTraces(api, '', 'desc')), 'abcd');
  assert.equal(ids(sortTraces(api, '', 'asc')), 'dcba');
  assert.equal(ids(sortTraces(api, 'duration', 'desc')), 'bdca');
  assert.equal(ids(sortTraces(api, 'duration', 'asc')), 'acbd', 'ties stay newest first either way');
  assert.equal(ids(sortTraces(api, 'spans', 'desc')), 'bcad');
  assert.equal(ids(sortTraces(api, 'errors', 'desc')), 'bdac');
  assert.equal(ids(sortTraces(api, 'nonsense', 'desc')), 'abcd');
  assert.deepEqual(groupByRoot(api).map((g) => [g.name, g.count, g.errors, g.p50, g.max, g.latest]), [
    ['q', 2, 2, 30, 30, '4'], ['r', 2, 0, 10, 20, '5']]);
  const lin = durationScale([0, 10e6, 45e6]);
  assert.equal(lin.log, false);
  assert.deepEqual(lin.ticks, [0, 10e6, 20e6, 30e6, 40e6, 50e6]);
  assert.equal(lin.toY(50e6), 1);
  const log = durationScale([1e6, 5e9]);
  assert.equal(log.log, true);
  assert.deepEqual(log.ticks, [1e6, 1e7, 1e8, 1e9, 1e10]);
  assert.equal(log.toY(1e6), 0);
  const { ticks, step } = timeTicks(Date.UTC(2024, 0, 1, 10, 0, 7), Date.UTC(2024, 0, 1, 10, 2, 0));
  assert.equal(step, 30000);
  assert.equal(ticks.length, 4);
  assert.ok(ticks.every((x) => x % 30000 === 0));
});
