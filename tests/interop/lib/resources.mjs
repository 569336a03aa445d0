// resources.mjs - the API writes each resource once per answer: a
// "resources" map keyed by id, and items (logs, a trace's spans) that name
// theirs with "resourceId" (docs/api.md). Helpers for tests that check that
// shape or compare with answers that carried the resource in every item.
import assert from 'node:assert/strict';

// Asserts the shape of an answer's resources for its items body[key]:
// every item names a resource in the map, none carries one itself, and
// every resource of the map is named by some item (none left over).
export function checkResourceRefs(body, key) {
  assert.equal(typeof body.resources, 'object', 'the answer has a resources map');
  assert.ok(body.resources !== null && !Array.isArray(body.resources));
  const named = new Set();
  for (const it of body[key]) {
    assert.equal(it.resource, undefined, 'no resource inside an item');
    assert.equal(typeof it.resourceId, 'string');
    const r = body.resources[it.resourceId];
    assert.ok(r, `resource ${it.resourceId} is in the map`);
    assert.equal(r.service, it.service, 'the resource has the item\'s service');
    assert.equal(typeof r.attributes, 'object');
    named.add(it.resourceId);
  }
  assert.deepEqual(Object.keys(body.resources).sort(), [...named].sort(), 'each resource is named');
}

// A copy of the answer in the earlier shape: each item of body[key] with
// "resource": {"attributes": ...} in place of its "resourceId", and no map.
export function inlineResources(body, key) {
  checkResourceRefs(body, key);
  const { resources, ...rest } = body;
  rest[key] = body[key].map(({ resourceId, ...it }) => ({
    ...it, resource: { attributes: resources[resourceId].attributes },
  }));
  return rest;
}
