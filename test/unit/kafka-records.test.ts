import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  DEFAULT_BROKERS,
  EMPTY,
  EMPTY_ARRAY,
  MAX_DEPTH,
  RecordDecoder,
  TOMBSTONE,
  headersToStrings,
  isValidTopic,
  nestingDepth,
  keyToString,
  parseBrokers,
  splitList,
  substituteEnv,
} from '../../nodes/lib/kafka-records';

describe('kafka-records > JSON decode', function () {
  const d = new RecordDecoder(true);

  it('parses a JSON value', function () {
    assert.deepEqual(d.decode(Buffer.from('{"deviceId":"d1","temperature":21.5}')), { deviceId: 'd1', temperature: 21.5 });
    assert.equal(d.error, null);
  });

  it('reports invalid JSON with the parser message and keeps the raw text', function () {
    assert.equal(d.decode(Buffer.from('{"deviceId": d1}')), undefined);
    assert.match(d.error!, /^invalid JSON: /);
    assert.equal(d.raw, '{"deviceId": d1}');
  });

  it('reports a tombstone (null value) and an empty or blank value', function () {
    d.decode(null);
    assert.equal(d.error, TOMBSTONE);
    assert.equal(d.raw, '');
    d.decode(Buffer.alloc(0));
    assert.equal(d.error, EMPTY);
    d.decode(Buffer.from(' \r\n'));
    assert.equal(d.error, EMPTY);
    assert.equal(d.raw, ' \r\n');
  });

  it('clears the error of the previous record', function () {
    d.decode(Buffer.from('nope'));
    assert.notEqual(d.error, null);
    assert.equal(d.decode(Buffer.from('1')), 1);
    assert.equal(d.error, null);
  });

  it('routes JSON nested deeper than MAX_DEPTH to output 2 (a clone of it would overflow the stack downstream)', function () {
    const deep = '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1);
    assert.equal(d.decode(Buffer.from(deep)), undefined);
    assert.equal(d.error, `JSON nested deeper than ${MAX_DEPTH} levels`);
    assert.equal(d.raw, deep);
    const limit = '{"a":'.repeat(MAX_DEPTH - 1) + '[]' + '}'.repeat(MAX_DEPTH - 1);
    assert.equal(nestingDepth(limit), MAX_DEPTH);
    assert.notEqual(d.decode(Buffer.from(limit)), undefined, 'exactly MAX_DEPTH levels still decode');
    assert.equal(d.error, null);
  });

  it('counts nesting outside strings only', function () {
    assert.equal(nestingDepth('{"a":[1,{"b":"[[[{{{"}]}'), 3);
    assert.equal(nestingDepth(String.raw`["\\", "]"]`), 1, "an escaped backslash ends before the closing quote");
    assert.equal(nestingDepth(String.raw`["\"[[[", 1]`), 1, "an escaped quote does not end the string");
    assert.equal(nestingDepth('42'), 0);
  });

  it('finds the same depth as a character-by-character scan (property: quotes, escapes, brackets, JSON)', function () {
    const reference = (text: string): number => {
      let depth = 0;
      let max = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
          if (c === 92) i++;
          else if (c === 34) inString = false;
        } else if (c === 34) inString = true;
        else if (c === 91 || c === 123) max = Math.max(max, ++depth);
        else if (c === 93 || c === 125) depth--;
      }
      return max;
    };
    const piece = fc.oneof(fc.constantFrom('"', '\\', '[', ']', '{', '}', 'a', ',', '\\"', '\\\\', '"x"'), fc.string({ maxLength: 3 }));
    const text = fc.oneof(
      fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(text, (t) => nestingDepth(t) === reference(t)),
      { numRuns: 20000 },
    );
  });

  it('decodes records longer than MAX_DEPTH characters with few brackets (no depth scan needed) and still refuses deep ones', function () {
    const flat = JSON.stringify({ device_id: 'x'.repeat(MAX_DEPTH), 'Temperature[C]': 20.5, note: '[[[{{{' });
    assert.deepEqual(d.decode(Buffer.from(flat)), JSON.parse(flat));
    assert.equal(d.error, null);
    const deep = '{"a":' + '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH) + '}';
    assert.equal(d.decode(Buffer.from(deep)), undefined);
    assert.equal(d.error, `JSON nested deeper than ${MAX_DEPTH} levels`);
  });

  it('a text too short to nest deeper than MAX_DEPTH and be JSON still goes to output 2 (as invalid JSON)', function () {
    const unclosed = '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH - 1);
    assert.ok(unclosed.length <= 2 * MAX_DEPTH);
    assert.equal(d.decode(Buffer.from(unclosed)), undefined);
    assert.match(d.error ?? '', /^invalid JSON: /);
  });

  it('routes an empty JSON array to output 2: it carries no reading, and nothing downstream would acknowledge it', function () {
    assert.equal(d.decode(Buffer.from(' [ ] ')), undefined);
    assert.equal(d.error, EMPTY_ARRAY);
    assert.deepEqual(d.decode(Buffer.from('[{}]')), [{}]);
    assert.equal(d.error, null);
  });

  it('passes text through when JSON decoding is off (tombstones and empty values still rejected)', function () {
    const t = new RecordDecoder(false);
    assert.equal(t.decode(Buffer.from('not json')), 'not json');
    assert.equal(t.error, null);
    t.decode(null);
    assert.equal(t.error, TOMBSTONE);
  });
});

describe('kafka-records > keys and headers', function () {
  it('turns keys and header values into text', function () {
    assert.equal(keyToString(Buffer.from('dev-7')), 'dev-7');
    assert.equal(keyToString(null), null);
    assert.deepEqual(headersToStrings({ a: Buffer.from('x'), b: 'y', c: [Buffer.from('1'), '2'], d: undefined }), {
      a: 'x',
      b: 'y',
      c: ['1', '2'],
    });
    assert.deepEqual(headersToStrings(undefined), {});
  });
});

describe('kafka-records > broker list', function () {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];

  it('a blank setting: KAFKA_BOOTSTRAP_SERVERS, then localhost:9092 (CONTRACT §7)', function () {
    for (const setting of [undefined, '', '  ']) {
      assert.deepEqual(parseBrokers(setting, env({ KAFKA_BOOTSTRAP_SERVERS: 'k1:9092,k2:9093' })), { brokers: ['k1:9092', 'k2:9093'], problems: [] });
      assert.deepEqual(parseBrokers(setting, env({})), { brokers: [DEFAULT_BROKERS], problems: [] });
      assert.deepEqual(parseBrokers(setting, env({ KAFKA_BOOTSTRAP_SERVERS: ' ' })), { brokers: [DEFAULT_BROKERS], problems: [] });
    }
    assert.equal(DEFAULT_BROKERS, 'localhost:9092');
  });

  it('a setting that names a variable never falls back to localhost: unset or blank gives no brokers and says what to set', function () {
    assert.deepEqual(parseBrokers('${KAFKA_BOOTSTRAP_SERVERS}', env({ KAFKA_BOOTSTRAP_SERVERS: 'k1:9092' })), { brokers: ['k1:9092'], problems: [] });
    const unset =
      'no brokers: KAFKA_BOOTSTRAP_SERVERS is not set (set it in the environment of Node-RED, or type the brokers, host:port, into the kafka broker node)';
    for (const vars of [{}, { KAFKA_BOOTSTRAP_SERVERS: ' ' }] as Record<string, string>[]) {
      assert.deepEqual(parseBrokers('${KAFKA_BOOTSTRAP_SERVERS}', env(vars)), { brokers: [], problems: [unset] }, JSON.stringify(vars));
    }
    assert.deepEqual(parseBrokers('${HOST}:9092,${BACKUP}:9092,${HOST}:9093', env({})).problems, [
      'no brokers: HOST, BACKUP are not set (set them in the environment of Node-RED, or type the brokers, host:port, into the kafka broker node)',
    ]);
    assert.deepEqual(parseBrokers(' , ', env({})), { brokers: [], problems: ['no brokers in " , ": type host:port (comma-separated) into the kafka broker node'] });
  });

  it('splits a comma list, trims it and substitutes ${ENV} inside entries', function () {
    const r = parseBrokers(' ${HOST}:9092 , backup:19092,', env({ HOST: 'kafka-1' }));
    assert.deepEqual(r.brokers, ['kafka-1:9092', 'backup:19092']);
    assert.deepEqual(r.problems, []);
  });

  it('accepts a listener scheme and IPv6 literals, rejects entries without a port', function () {
    assert.deepEqual(parseBrokers('PLAINTEXT://h:9092,[::1]:9092', env({})).brokers, ['h:9092', '[::1]:9092']);
    const bad = parseBrokers('h1,h2:99999', env({}));
    assert.equal(bad.problems.length, 2);
    assert.deepEqual(bad.brokers, []);
  });

  it('substituteEnv leaves text without variables alone', function () {
    assert.equal(substituteEnv('a:1', env({})), 'a:1');
    assert.equal(substituteEnv('${A}${B}', env({ A: 'x' })), 'x');
  });
});

describe('kafka-records > topics', function () {
  it('splits topic lists and checks names as Kafka does', function () {
    assert.deepEqual(splitList('smoke_stream, alerts ,,'), ['smoke_stream', 'alerts']);
    assert.ok(isValidTopic('smoke_stream'));
    assert.ok(isValidTopic('a.b-c_1'));
    assert.ok(!isValidTopic('has space'));
    assert.ok(!isValidTopic('..'));
    assert.ok(!isValidTopic('x'.repeat(250)));
  });
});
