// ACF parsing and rule evaluation (no sockets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccessSecurity, AcfParseError } from '../../src/server/access-security.js';

const ACF = `
# operators and consoles
UAG(ops) { alice, bob }
UAG(admins) { root }
HAG(consoles) { Console1, 10.0.0.5 }

ASG(DEFAULT) {
    RULE(1, READ)
    RULE(1, WRITE, TRAPWRITE) {
        UAG(ops, admins)
        HAG(consoles)
    }
}

ASG(RO) {
    RULE(1, READ)
}

ASG(LOCKED) {
}

ASG(CALCED) {
    INPA("SOME:PV")
    RULE(1, WRITE) {
        CALC("A>0")
    }
}

ASG(LEVEL) {
    RULE(0, WRITE)
    RULE(1, READ)
}
`;

const who = (user: string, host: string, address = '192.168.1.1') => ({ user, host, address });

describe('AccessSecurity', () => {
  const as = AccessSecurity.parse(ACF, 'test.acf');

  it('grants the highest matching rule', () => {
    assert.equal(as.rightsFor('DEFAULT', who('alice', 'console1')), 3);
    assert.equal(as.rightsFor('DEFAULT', who('root', 'CONSOLE1')), 3, 'host names are case-insensitive');
    assert.equal(as.rightsFor('DEFAULT', who('alice', 'elsewhere')), 1);
    assert.equal(as.rightsFor('DEFAULT', who('mallory', 'console1')), 1);
    assert.equal(as.rightsFor('RO', who('alice', 'console1')), 1);
  });

  it('matches a HAG IP entry against the peer address', () => {
    assert.equal(as.rightsFor('DEFAULT', who('bob', 'somename', '10.0.0.5')), 3);
  });

  it('falls back to DEFAULT for unknown groups; an empty group grants nothing', () => {
    assert.equal(as.rightsFor('NO_SUCH_GROUP', who('alice', 'console1')), 3);
    assert.equal(as.rightsFor('LOCKED', who('alice', 'console1')), 0);
  });

  it('applies rule levels to the field ASL', () => {
    assert.equal(as.rightsFor('LEVEL', who('x', 'y'), 0), 3);
    assert.equal(as.rightsFor('LEVEL', who('x', 'y'), 1), 1);
  });

  it('reports TRAPWRITE', () => {
    assert.equal(as.trapWrite('DEFAULT', who('alice', 'console1')), true);
    assert.equal(as.trapWrite('DEFAULT', who('eve', 'console1')), false);
  });

  it('CALC rules never match without a calc engine; with one they follow the inputs', () => {
    assert.equal(as.rightsFor('CALCED', who('a', 'b')), 0);
    const withCalc = AccessSecurity.parse(ACF, 'test.acf', {
      compileCalc: (expr) => {
        assert.equal(expr, 'A>0');
        return (inp) => (inp[0] > 0 ? 1 : 0);
      },
    });
    assert.equal(withCalc.rightsFor('CALCED', who('a', 'b')), 0, 'input not connected yet');
    assert.equal(withCalc.setInput('CALCED', 'A', 5), true);
    assert.equal(withCalc.rightsFor('CALCED', who('a', 'b')), 3);
    withCalc.setInput('CALCED', 'A', 0);
    assert.equal(withCalc.rightsFor('CALCED', who('a', 'b')), 0);
  });

  it('creates an empty DEFAULT when the file has none', () => {
    const a = AccessSecurity.parse('ASG(X) { RULE(1, WRITE) }');
    assert.equal(a.rightsFor('X', who('u', 'h')), 3);
    assert.equal(a.rightsFor('DEFAULT', who('u', 'h')), 0);
    assert.equal(a.rightsFor('Y', who('u', 'h')), 0);
  });

  const errors: [string, string, RegExp][] = [
    ['unknown keyword', 'ASG(DEFAULT) {\n  RULE(1, READ)\n}\nFOO(x)', /test\.acf:4: unknown keyword 'FOO'/],
    [
      'bad access',
      'ASG(DEFAULT) {\n  RULE(1, EXECUTE)\n}',
      /test\.acf:2: access must be NONE, READ or WRITE/,
    ],
    ['bad level', 'ASG(DEFAULT) {\n\n  RULE(x, READ)\n}', /test\.acf:3: rule level/],
    [
      'undefined UAG',
      'ASG(DEFAULT) {\n  RULE(1, WRITE) {\n    UAG(nobody)\n  }\n}',
      /test\.acf:3: UAG\(nobody\) is not defined/,
    ],
    ['missing brace', 'ASG(DEFAULT) {\n  RULE(1, READ)\n', /test\.acf:2: unexpected end of file/],
    ['unterminated string', 'ASG(A) {\n INPA("X:Y)\n}', /test\.acf:2: unterminated string/],
    ['duplicate ASG', 'ASG(A)\nASG(A)', /test\.acf:2: duplicate ASG\(A\)/],
    ['bad TRAPWRITE', 'ASG(A) { RULE(1, WRITE, MAYBE) }', /test\.acf:1: expected TRAPWRITE or NOTRAPWRITE/],
  ];
  for (const [what, text, re] of errors) {
    it(`reports ${what} with its line number`, () => {
      assert.throws(
        () => AccessSecurity.parse(text, 'test.acf'),
        (e: unknown) => e instanceof AcfParseError && re.test(e.message),
      );
    });
  }
});
