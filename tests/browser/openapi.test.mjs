// docs/openapi.yaml is a valid OpenAPI 3.0 document, by a real validator
// (@apidevtools/swagger-parser: the OpenAPI 3.0 JSON schema, $refs, path
// parameters, unique operationIds). Route coverage against the service is
// tests/integration/test_openapi.cpp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';

const root = process.env.CAMRELAY_SOURCE_ROOT ?? path.join(import.meta.dirname ?? '.', '..', '..');
const file = path.join(root, 'docs', 'openapi.yaml');
const methods = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'];

test('docs/openapi.yaml validates as OpenAPI 3.0', async () => {
  const api = await SwaggerParser.validate(file);
  assert.equal(api.openapi, '3.0.3');
  let operations = 0;
  for (const [route, item] of Object.entries(api.paths)) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      operations++;
      assert.ok(['public', 'viewer', 'admin'].includes(op['x-camrelay-access']),
        `${method.toUpperCase()} ${route}: x-camrelay-access is public, viewer or admin`);
      if (op['x-camrelay-websocket'])
        assert.ok(op.responses['101'] && op.responses['426'] || op['x-camrelay-websocket'] === 'optional',
          `${method.toUpperCase()} ${route}: a WebSocket route lists 101 and 426`);
    }
  }
  assert.ok(operations > 30, `${operations} operations`);
});

test('the validator refuses a broken document (it is not a rubber stamp)', async () => {
  const good = await SwaggerParser.parse(file);
  // An operation without responses, and a parameter in a place OpenAPI 3 has not ("body" is Swagger 2's).
  const broken = structuredClone(good);
  delete broken.paths['/health'].get.responses;
  await assert.rejects(SwaggerParser.validate(broken));
  const badParam = structuredClone(good);
  badParam.paths['/api/cameras'].get.parameters = [{ name: 'id', in: 'body', schema: { type: 'string' } }];
  await assert.rejects(SwaggerParser.validate(badParam));
  assert.ok(readFileSync(file, 'utf8').startsWith('openapi: 3.0.3'));
});
