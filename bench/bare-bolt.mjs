// The floor for scenario "ack": a bare Bolt app with one /incident listener that acks and opens a modal.
import bolt from '@slack/bolt';

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
  await client.views.open({
    trigger_id: command.trigger_id,
    view: {
      type: 'modal',
      title: { type: 'plain_text', text: 'Declare' },
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }],
    },
  });
});
const server = await app.start(Number(process.env.PORT ?? 0));
console.log(`listening on port ${server.address().port}`);
process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
