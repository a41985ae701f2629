import { describe, expect, it } from 'vitest';
import { mentionUser, slackDate, unescapeCommandText } from '../../src/slack/text.js';
import { escapeMrkdwn, stripControl, truncate } from '../../src/text.js';

describe('mrkdwn text', () => {
  it('escapes &, < and > so user text cannot ping or link', () => {
    expect(escapeMrkdwn('<!channel> & <https://evil|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil|click&gt;',
    );
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('turns escaped slash-command text back into plain text', () => {
    expect(unescapeCommandText('DB &lt;prod&gt; &amp; cache')).toBe('DB <prod> & cache');
    expect(unescapeCommandText('paged <@U123ABC|alice> and <!subteam^S0123|@oncall> in <#C0123|ops>')).toBe(
      'paged @alice and @oncall in #ops',
    );
    expect(unescapeCommandText('see <https://status.example.com|status>')).toBe(
      'see status (https://status.example.com)',
    );
  });

  it('removes NUL and other control characters but keeps tabs and newlines', () => {
    expect(stripControl('a\u0000b\u0007c\td\ne\u007f')).toBe('abc\td\ne');
  });

  it('truncates by code points without splitting emoji', () => {
    expect(truncate('🔥🔥🔥🔥', 3)).toBe('🔥🔥…');
    expect(truncate('short', 10)).toBe('short');
  });

  it('builds mentions only from real ids', () => {
    expect(mentionUser('U123ABC')).toBe('<@U123ABC>');
    expect(() => mentionUser('<!channel>')).toThrow();
  });

  it('renders dates as Slack date tokens with an ISO fallback', () => {
    expect(slackDate(new Date('2026-11-26T10:00:00.123Z'))).toBe(
      '<!date^1795687200^{date_short_pretty} at {time}|2026-11-26T10:00:00Z>',
    );
  });
});
