import { describe, expect, it } from 'vitest';
import { DEFAULT_SEVERITIES } from '../../src/config/index.js';
import { validateDeclareForm } from '../../src/incidents/declare.js';

const valid = { title: 'DB down', severity: 'SEV1', summary: '', isPrivate: false, isTest: false };

describe('declare form validation', () => {
  it('cleans a valid form', () => {
    const result = validateDeclareForm(
      { ...valid, title: '  DB\n  down\u0000 ', summary: ' s\u0000 ', commanderId: 'U0ABC' },
      DEFAULT_SEVERITIES,
    );
    expect(result).toEqual({
      ok: true,
      fields: {
        title: 'DB down',
        severity: 'SEV1',
        summary: 's',
        commanderId: 'U0ABC',
        isPrivate: false,
        isTest: false,
      },
    });
  });

  it('counts characters, not UTF-16 units, against the 150 limit', () => {
    expect(validateDeclareForm({ ...valid, title: '🔥'.repeat(150) }, DEFAULT_SEVERITIES).ok).toBe(true);
    expect(validateDeclareForm({ ...valid, title: '🔥'.repeat(151) }, DEFAULT_SEVERITIES).ok).toBe(false);
  });

  it('reports one message per bad field', () => {
    const result = validateDeclareForm(
      { title: '', severity: 'nope', summary: 'x'.repeat(3001), commanderId: '<!channel>' },
      DEFAULT_SEVERITIES,
    );
    expect(result).toEqual({
      ok: false,
      errors: {
        title: 'Give the incident a title.',
        severity: '"nope" is not a severity; choose one from the list.',
        summary: 'Keep the summary to 3000 characters or fewer.',
        commanderId: 'Choose a person from the list.',
      },
    });
  });
});
