import { describe, expect, it } from 'vitest';
import { processHarness } from '../helpers/harness.js';
import { until } from '../helpers/process.js';
import { APP_TOKEN, commandEnvelope, declarationEnvelope, socketModeSlack } from '../helpers/socket-mode.js';

/**
 * Socket Mode from the built program. The bundle defers loading Bolt's Socket Mode client until a
 * receiver is built (scripts/bundle.mjs), so this is the test that the deferred module still loads and
 * works where `npm start` runs it: the program connects to a local stand-in for Slack's socket, answers
 * a command and declares an incident through it.
 */

const { setup, cleanups } = processHarness('socket-mode');

describe('Socket Mode as a process', () => {
  it('connects, answers /incident help and declares an incident over the socket', async () => {
    const { slack, start } = await setup({
      config: 'announcements_channel: C0ANNOUNCE\n',
      env: { SLACK_APP_TOKEN: APP_TOKEN },
    });
    const socketSlack = await socketModeSlack(slack);
    cleanups.push(() => socketSlack.close());

    const bot = start();
    await bot.ready();
    expect(bot.stdout.some((line) => line.includes('Socket Mode'))).toBe(true);
    await socketSlack.connected;

    const help = (await socketSlack.send(commandEnvelope('env-help', 'help'))) as { blocks: unknown[] };
    expect(JSON.stringify(help.blocks)).toContain('/incident declare [title]');

    await socketSlack.send(
      declarationEnvelope('env-declare', { title: 'Over the socket', severity: 'SEV1' }),
    );
    await until('the card pinned', () => (slack.pins.length > 0 ? true : undefined));
    expect(slack.callsTo('conversations.create')[0]?.args.name).toBe('inc-1-over-the-socket');
    expect(bot.stderr.join('\n')).not.toMatch(/error/i);
  });
});
