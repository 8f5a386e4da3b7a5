import { renameIdentifiers } from '../../lambda/database/sql';

describe('renameIdentifiers (a CHECK or index definition moved onto the new columns)', () => {
  const names = new Map([['email', '_zdt_new_email'], ['Mixed Case', '_zdt_new_x']]);

  test('renames bare and quoted column references, whatever their case when bare', () => {
    expect(renameIdentifiers(`EMAIL LIKE '%@%' AND users.email <> "Mixed Case"`, names))
      .toBe(`"_zdt_new_email" LIKE '%@%' AND users."_zdt_new_email" <> "_zdt_new_x"`);
  });

  test('leaves string literals, function names, type names and longer identifiers alone', () => {
    expect(renameIdentifiers(`email(x) = 'email' || E'it\\'s email' || $$email$$ || $t$email$t$ AND x::email IS NULL AND emails > 0`, names))
      .toBe(`email(x) = 'email' || E'it\\'s email' || $$email$$ || $t$email$t$ AND x::email IS NULL AND emails > 0`);
  });

  test('a quoted name that only differs in case is another column', () => {
    expect(renameIdentifiers(`"Email" = "email"`, names)).toBe(`"Email" = "_zdt_new_email"`);
  });
});
