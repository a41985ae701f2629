// The floor for scenario "ack": a bare Bolt app with one /incident listener that acks and opens a modal.
// It opens the bot's own declare modal (built by the same pure view builder, from dist/), so the two differ
// only in what the bot adds around the Slack call, not in the size of what both send to Slack.
import bolt from '@slack/bolt';
import { DEFAULT_SEVERITIES } from '../dist/config/index.js';
import { declareModal } from '../dist/slack/views/declare-modal.js';

const { App, HTTPReceiver, LogLevel } = bolt;
const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  logLevel: LogLevel.ERROR,
});
const app = new App({
  receiver,
  token: process.env.SLACK_BOT_TOKEN,
  tokenVerificationEnabled: false,
  botUserId: 'UBOT00001',
  botId: 'B0BOT0001',
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL, retryConfig: { retries: 0 } },
});
app.command('/incident', async ({ ack, client, command }) => {
  await ack();
  const title = command.text.replace(/^declare\s+/, '');
  await client.views.open({
    trigger_id: command.trigger_id,
    view: declareModal({
      severities: DEFAULT_SEVERITIES,
      initialTitle: title,
      metadata: { sourceChannelId: command.channel_id },
    }),
  });
});
const server = await app.start(Number(process.env.PORT ?? 0));
console.log(`listening on port ${server.address().port}`);
process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
