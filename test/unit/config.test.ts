import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_ROLE_DESCRIPTIONS,
  DEFAULT_SEVERITIES,
  loadConfig,
  parseIncidentConfig,
} from '../../src/config.js';

const baseEnv = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh-secret' };
const noFile = { fileExists: () => false };

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('environment', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ env: baseEnv, ...noFile });
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: './data',
      port: 3000,
      logLevel: 'info',
      configPath: undefined,
      slack: { apiUrl: 'https://slack.com/api/', appToken: undefined },
      incident: { channelPrefix: 'inc', announcementsChannel: undefined, severities: DEFAULT_SEVERITIES },
    });
  });

  it('reports every problem, one line each, naming the variable and what is expected', () => {
    const lines = problems(() =>
      loadConfig({
        env: {
          SLACK_BOT_TOKEN: 'xoxp-user-token',
          PORT: 'eighty',
          LOG_LEVEL: 'loud',
          DATABASE_URL: 'mysql://x',
        },
        ...noFile,
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'SLACK_BOT_TOKEN: must be a bot token starting with xoxb-',
        'PORT: must be a port number',
        'LOG_LEVEL: must be one of debug, info, warn, error',
        'DATABASE_URL: must be a postgres:// or postgresql:// URL (or unset for embedded PGlite)',
        'SLACK_SIGNING_SECRET: is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
      ]),
    );
    expect(lines).toHaveLength(5);
    // Values of environment variables are never echoed: they may be secrets.
    expect(lines.join('\n')).not.toContain('xoxp-user-token');
  });

  it('requires the bot token', () => {
    expect(problems(() => loadConfig({ env: {}, ...noFile }))).toContain(
      'SLACK_BOT_TOKEN: is required (the bot token, xoxb-…)',
    );
  });

  it('needs no signing secret in Socket Mode, and checks the app token', () => {
    expect(
      loadConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-abc' }, ...noFile }).slack
        .appToken,
    ).toBe('xapp-1-abc');
    expect(
      problems(() => loadConfig({ env: { ...baseEnv, SLACK_APP_TOKEN: 'xoxb-wrong' }, ...noFile }))[0],
    ).toMatch(/^SLACK_APP_TOKEN: must be an app-level token/);
  });

  it('treats empty variables as unset and normalises the API URL', () => {
    const config = loadConfig({
      env: { ...baseEnv, PORT: '', SLACK_API_URL: 'http://127.0.0.1:9/api' },
      ...noFile,
    });
    expect(config.port).toBe(3000);
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it('reads ./incident.config.yml when it exists and INCIDENT_CONFIG is unset', () => {
    const config = loadConfig({
      env: baseEnv,
      fileExists: (p) => p === './incident.config.yml',
      readFile: () => 'channel_prefix: ops\n',
    });
    expect(config.configPath).toBe('./incident.config.yml');
    expect(config.incident.channelPrefix).toBe('ops');
  });

  it('reports an unreadable INCIDENT_CONFIG', () => {
    const lines = problems(() =>
      loadConfig({
        env: { ...baseEnv, INCIDENT_CONFIG: '/nope.yml' },
        readFile: () => {
          throw Object.assign(new Error('no'), { code: 'ENOENT' });
        },
      }),
    );
    expect(lines).toEqual(['INCIDENT_CONFIG: cannot read /nope.yml (ENOENT); expected a readable YAML file']);
  });
});

describe('config file', () => {
  it('parses a full file', () => {
    const config = parseIncidentConfig(
      [
        'announcements_channel: C0123ABCD',
        'channel_prefix: sev',
        'severities:',
        '  - id: SEV1',
        '    description: Critical issue that warrants public notification',
        '  - id: SEV2',
        '    description: Major',
      ].join('\n'),
      'incident.config.yml',
    );
    expect(config).toEqual({
      announcementsChannel: 'C0123ABCD',
      admins: [],
      roleDescriptions: DEFAULT_ROLE_DESCRIPTIONS,
      channelPrefix: 'sev',
      severities: [
        { id: 'SEV1', description: 'Critical issue that warrants public notification' },
        { id: 'SEV2', description: 'Major' },
      ],
    });
  });

  it('names the exact path, the value and the expectation of each error', () => {
    const lines = problems(() =>
      parseIncidentConfig(
        [
          'announcements_channel: "#general"',
          'channel_prefix: Incidents!',
          'severties: []',
          'severities:',
          '  - id: SEV1',
          '    description: ok',
          '  - description: no id',
        ].join('\n'),
        'cfg.yml',
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'cfg.yml: announcements_channel: "#general": must be a channel ID such as C0123ABCD',
        'cfg.yml: channel_prefix: "Incidents!": must be 1-20 lowercase letters, digits, - or _ (such as inc)',
        'cfg.yml: (top level): unknown setting "severties"',
        'cfg.yml: severities[1].id: is required (a short name such as SEV1)',
      ]),
    );
    expect(lines).toHaveLength(4);
  });

  it('rejects a severity listed twice', () => {
    const lines = problems(() =>
      parseIncidentConfig(
        'severities:\n  - {id: SEV1, description: a}\n  - {id: sev1, description: b}',
        'cfg.yml',
      ),
    );
    expect(lines).toEqual(['cfg.yml: severities[1].id: "sev1": "sev1" is listed twice']);
  });

  it('reports invalid YAML with its line', () => {
    expect(problems(() => parseIncidentConfig('severities: [\n  - id: x', 'bad.yml'))[0]).toMatch(
      /^bad\.yml:\d+:\d+: not valid YAML/,
    );
    expect(problems(() => parseIncidentConfig('- just\n- a list', 'list.yml'))).toEqual([
      'list.yml: must be a YAML mapping of settings (such as channel_prefix: inc)',
    ]);
  });

  it('takes admins and per-role descriptions, keeping the defaults for the other roles', () => {
    const config = parseIncidentConfig(
      'admins: [U0ADMIN1, W0ADMIN2]\nroles:\n  scribe:\n    description: Write it all down.\n',
      'cfg.yml',
    );
    expect(config.admins).toEqual(['U0ADMIN1', 'W0ADMIN2']);
    expect(config.roleDescriptions.scribe).toBe('Write it all down.');
    expect(config.roleDescriptions.commander).toBe(DEFAULT_ROLE_DESCRIPTIONS.commander);
    expect(
      problems(() => parseIncidentConfig('admins: [bob]\nroles:\n  wizard: {description: x}\n', 'cfg.yml')),
    ).toEqual([
      'cfg.yml: admins[0]: "bob": must be a user ID such as U0123ABCD',
      'cfg.yml: roles: unknown setting "wizard"',
    ]);
  });

  it('treats an empty file as all defaults', () => {
    expect(parseIncidentConfig('', 'empty.yml').severities).toEqual(DEFAULT_SEVERITIES);
  });
});
