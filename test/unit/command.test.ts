import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/slack/command.js';

describe('/incident parsing', () => {
  it.each([
    ['', { kind: 'open' }],
    ['   ', { kind: 'open' }],
    ['declare', { kind: 'declare', title: '' }],
    ['DECLARE  Payments &amp; refunds down ', { kind: 'declare', title: 'Payments & refunds down' }],
    ['declare <@U1ABC|bob> broke it', { kind: 'declare', title: '@bob broke it' }],
    ['help', { kind: 'help' }],
    ['Help', { kind: 'help' }],
    ['frobnicate now', { kind: 'help', unknown: 'frobnicate' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });
});
