import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_ROLE_DESCRIPTIONS,
  DEFAULT_SEVERITIES,
  loadConfig,
  parseIncidentConfig,
} from '../../src/config/index.js';

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
      oncallIcalToken: undefined,
      metricsToken: undefined,
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
          ONCALL_ICAL_TOKEN: 'short',
          METRICS_TOKEN: 'short',
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
        'ONCALL_ICAL_TOKEN: must be at least 16 characters (it is the secret in the calendar feed URL)',
        'METRICS_TOKEN: must be at least 16 characters (a bearer token for GET /metrics)',
      ]),
    );
    expect(lines).toHaveLength(7);
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
      escalationPolicies: {},
      businessTimeZone: 'UTC',
      schedules: {},
      webhooks: [],
      reminders: {},
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
        'cfg.yml: announcements_channel: "#general" must be a channel ID such as C0123ABCD',
        'cfg.yml: channel_prefix: "Incidents!" must be 1-20 lowercase letters, digits, - or _ (such as inc)',
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
    expect(lines).toEqual(['cfg.yml: severities[1].id: "sev1" is listed twice']);
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
      'cfg.yml: admins[0]: "bob" must be a user ID such as U0123ABCD',
      'cfg.yml: roles: unknown setting "wizard"',
    ]);
  });

  it('treats an empty file as all defaults', () => {
    expect(parseIncidentConfig('', 'empty.yml').severities).toEqual(DEFAULT_SEVERITIES);
  });
});

describe('escalation and reminders config', () => {
  const full = [
    'escalation_policies:',
    '  default:',
    '    tiers:',
    '      - after: 0m',
    '        notify: [S0ONCALL1]',
    '      - after: 5m',
    '        notify: [U0TIER2]',
    '      - after: 15m',
    '        notify: [U0INCMGR, W0OTHER]',
    '    repeat: 1',
    'severities:',
    '  - id: SEV1',
    '    description: Critical',
    '    escalation_policy: default',
    '    update_every: 20m',
    '    postmortem_due: 3d',
    '  - id: SEV2',
    '    description: Major',
    'reminders:',
    '  missing_commander_after: 10m',
    '  deputy_callouts: 10m',
  ].join('\n');

  it('parses policies, cadences and reminders into milliseconds', () => {
    const config = parseIncidentConfig(full, 'cfg.yml');
    expect(config.escalationPolicies.default).toEqual({
      name: 'default',
      repeat: 1,
      tiers: [
        { afterMs: 0, notify: ['S0ONCALL1'] },
        { afterMs: 300_000, notify: ['U0TIER2'] },
        { afterMs: 900_000, notify: ['U0INCMGR', 'W0OTHER'] },
      ],
    });
    expect(config.severities[0]).toEqual({
      id: 'SEV1',
      description: 'Critical',
      escalationPolicy: 'default',
      updateEveryMs: 1_200_000,
      postmortemDue: { ms: 3 * 86_400_000 },
    });
    expect(config.severities[1]).toEqual({ id: 'SEV2', description: 'Major' });
    expect(config.reminders).toEqual({ missingCommanderAfterMs: 600_000, deputyCalloutsMs: 600_000 });
  });

  it('names the exact path of every bad duration, id and tier order', () => {
    const lines = problems(() =>
      parseIncidentConfig(
        [
          'escalation_policies:',
          '  default:',
          '    tiers:',
          '      - after: 5m',
          '        notify: [bob]',
          '      - after: 1m',
          '        notify: []',
          'severities:',
          '  - {id: SEV1, description: a}',
          '  - {id: SEV2, description: b}',
          '  - {id: SEV3, description: c, update_every: 5 minutes}',
          'reminders:',
          '  missing_commander_after: soon',
        ].join('\n'),
        'cfg.yml',
      ),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'cfg.yml: escalation_policies.default.tiers[0].notify[0]: "bob" must be a user ID (U…, W…), a user-group ID (S…) or schedule:<name>',
        'cfg.yml: escalation_policies.default.tiers[1].notify: [] must name at least one person or group',
        `cfg.yml: escalation_policies.default.tiers[1].after: "1m" must be later than tier 1's`,
        'cfg.yml: severities[2].update_every: "5 minutes" is not a duration like 5m',
        'cfg.yml: reminders.missing_commander_after: "soon" is not a duration like 5m',
      ]),
    );
  });

  it('rejects tiers that do not move forward in time', () => {
    const lines = problems(() =>
      parseIncidentConfig(
        'escalation_policies:\n  p:\n    tiers:\n      - {after: 5m, notify: [U0A]}\n      - {after: 5m, notify: [U0B]}\n',
        'cfg.yml',
      ),
    );
    expect(lines).toEqual([
      `cfg.yml: escalation_policies.p.tiers[1].after: "5m" must be later than tier 1's`,
    ]);
  });

  it('rejects a severity that names an unknown policy', () => {
    expect(
      problems(() =>
        parseIncidentConfig(
          'severities:\n  - {id: SEV1, description: a, escalation_policy: nope}\n',
          'cfg.yml',
        ),
      ),
    ).toEqual(['cfg.yml: severities[0].escalation_policy: "nope" is not a policy in escalation_policies']);
  });
});

describe('config file: alerts', () => {
  const keys = {
    ALERTS_KEY_PROMETHEUS: 'prom-key-0123456789abcdef',
    ALERTS_KEY_PD: 'a'.repeat(32),
    ALERTS_KEY_HOOK: 'hook-key-0123456789abcdef',
  };
  const hub = `
escalation_policies:
  default:
    tiers: [{after: 0m, notify: [U0ONCALL]}]
alerts:
  channel: C0ALERTS
  group_by: [alertname, service]
  reopen_within: 10m
  integrations:
    - {name: prometheus, type: alertmanager, key_env: ALERTS_KEY_PROMETHEUS}
    - {name: pd, type: pagerduty, key_env: ALERTS_KEY_PD}
    - name: hook
      type: webhook
      key_env: ALERTS_KEY_HOOK
      fields: {dedup_key: id, summary: title, severity: level, status: state, labels: tags}
  routes:
    - match: {service: payments}
      declare: sev1
    - match: {severity: critical, alertname: '/^Disk.*Full$/i'}
      escalation_policy: default
      channel: C0OTHER
      group_by: [alertname]
`;

  it('parses the hub: integrations with their keys from the environment, routes with matchers', () => {
    const { alerts } = parseIncidentConfig(hub, 'cfg.yml', keys);
    expect(alerts).toMatchObject({
      channel: 'C0ALERTS',
      groupBy: ['alertname', 'service'],
      reopenWithinMs: 600_000,
      integrations: [
        {
          name: 'prometheus',
          type: 'alertmanager',
          key: keys.ALERTS_KEY_PROMETHEUS,
          keyEnv: 'ALERTS_KEY_PROMETHEUS',
        },
        { name: 'pd', type: 'pagerduty', key: keys.ALERTS_KEY_PD },
        {
          name: 'hook',
          type: 'webhook',
          fields: { dedupKey: 'id', summary: 'title', severity: 'level', status: 'state', labels: 'tags' },
        },
      ],
    });
    // A severity is named as the severities list spells it.
    expect(alerts?.routes[0]).toEqual({ match: { service: { equals: 'payments' } }, declare: 'SEV1' });
    const second = alerts?.routes[1];
    expect(second).toMatchObject({ escalationPolicy: 'default', channel: 'C0OTHER', groupBy: ['alertname'] });
    const regex = (second?.match.alertname as { regex: RegExp } | undefined)?.regex ?? /(?!)/;
    expect(regex.test('diskfull')).toBe(true);
    expect(regex.test('Disk is Full!')).toBe(false);
  });

  it('applies the defaults, and is off without the section', () => {
    const minimal = parseIncidentConfig(
      'alerts:\n  channel: C0ALERTS\n  integrations: [{name: p, type: alertmanager, key_env: K}]\n',
      'cfg.yml',
      { K: 'k'.repeat(16) },
    );
    expect(minimal.alerts).toMatchObject({ groupBy: ['alertname'], reopenWithinMs: 300_000, routes: [] });
    expect(parseIncidentConfig('{}', 'cfg.yml').alerts).toBeUndefined();
  });

  it('names the exact path of every problem, and never shows a key', () => {
    const bad = `
alerts:
  group_by: [alert-name]
  integrations:
    - {name: prometheus, type: alertmanager, key_env: MISSING_KEY}
    - {name: prometheus, type: alertmanager, key_env: SHORT_KEY}
    - {name: pd, type: pagerduty, key_env: PD_KEY}
    - {name: hook, type: webhook, key_env: HOOK_KEY}
    - {name: Bad Name, type: nagios, key_env: lower, fields: {dedup_key: id, summary: x}}
  routes:
    - {match: {service: '/[unclosed/'}, declare: SEV9, escalation_policy: nope}
    - {match: {integration: nowhere}}
`;
    const lines = problems(() =>
      parseIncidentConfig(bad, 'cfg.yml', {
        SHORT_KEY: 'short',
        PD_KEY: 'p'.repeat(31),
        HOOK_KEY: 'h'.repeat(20),
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'cfg.yml: alerts.channel: is required to enable the hub (the triage channel ID, such as C0ALERTS)',
        'cfg.yml: alerts.group_by[0]: "alert-name" must be a label name such as alertname (letters, digits, _)',
        'cfg.yml: alerts.integrations[4].name: "Bad Name" must be 1-40 lowercase letters, digits, - or _ (such as prometheus)',
        'cfg.yml: alerts.integrations[4].type: "nagios" must be one of alertmanager, pagerduty, webhook',
        'cfg.yml: alerts.integrations[4].key_env: "lower" must be an environment variable name such as ALERTS_KEY_PROMETHEUS',
        'cfg.yml: alerts.routes[0].match.service: "/[unclosed/" is not a valid regular expression (Invalid regular expression: /[unclosed/: Unterminated character class)',
      ]),
    );
    // Once the shape is right, the checks that need the environment and the other sections.
    const shaped = `
alerts:
  channel: C0ALERTS
  integrations:
    - {name: prometheus, type: alertmanager, key_env: MISSING_KEY}
    - {name: prometheus, type: alertmanager, key_env: SHORT_KEY}
    - {name: pd, type: pagerduty, key_env: PD_KEY}
    - {name: hook, type: webhook, key_env: HOOK_KEY}
    - {name: am, type: alertmanager, key_env: HOOK_KEY, fields: {dedup_key: id, summary: x}}
  routes:
    - {match: {integration: nowhere}, declare: SEV9, escalation_policy: nope}
`;
    const env = { SHORT_KEY: 'short-secret', PD_KEY: 'p'.repeat(31), HOOK_KEY: 'hook-secret-0123456789' };
    const second = problems(() => parseIncidentConfig(shaped, 'cfg.yml', env));
    expect(second).toEqual([
      "cfg.yml: alerts.integrations[0].key_env: MISSING_KEY is not set (it must hold the integration's secret key)",
      'cfg.yml: alerts.integrations[1].name: "prometheus" is used twice',
      'cfg.yml: alerts.integrations[1].key_env: SHORT_KEY must hold at least 16 characters',
      'cfg.yml: alerts.integrations[2].key_env: PD_KEY must hold 32 printable characters, as a PagerDuty routing key does',
      'cfg.yml: alerts.integrations[3].fields: is required for a webhook (at least dedup_key and summary)',
      'cfg.yml: alerts.integrations[4].fields: only a webhook integration takes fields (this one is alertmanager)',
      'cfg.yml: alerts.routes[0].declare: "SEV9" is not a severity in severities',
      'cfg.yml: alerts.routes[0].escalation_policy: "nope" is not a policy in escalation_policies',
      'cfg.yml: alerts.routes[0].match.integration: "nowhere" is not an integration in alerts.integrations',
    ]);
    for (const value of Object.values(env)) expect(second.join('\n')).not.toContain(value);
  });

  it('reads the keys from the environment loadConfig was given', () => {
    const config = loadConfig({
      env: { ...baseEnv, ...keys, INCIDENT_CONFIG: 'hub.yml' },
      readFile: () => hub,
      fileExists: () => true,
    });
    expect(config.incident.alerts?.integrations.map((i) => i.key)).toEqual(Object.values(keys));
    const missing = problems(() =>
      loadConfig({
        env: { ...baseEnv, INCIDENT_CONFIG: 'hub.yml' },
        readFile: () => hub,
        fileExists: () => true,
      }),
    );
    expect(missing).toHaveLength(3);
    expect(missing[0]).toBe(
      "hub.yml: alerts.integrations[0].key_env: ALERTS_KEY_PROMETHEUS is not set (it must hold the integration's secret key)",
    );
  });
});

describe('incident.config.example.yml', () => {
  it('is a valid config that uses every setting', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const text = readFileSync(join(import.meta.dirname, '../../incident.config.example.yml'), 'utf8');
    const config = parseIncidentConfig(text, 'incident.config.example.yml', {
      ALERTS_KEY_PROMETHEUS: 'k'.repeat(24),
      ALERTS_KEY_PD: 'p'.repeat(32),
      ALERTS_KEY_HOOK: 'h'.repeat(24),
      WEBHOOK_SECRET_OPS: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    });
    expect(config.announcementsChannel).toBe('C0123ABCD');
    expect(config.alerts?.integrations.map((i) => i.type)).toEqual(['alertmanager', 'pagerduty', 'webhook']);
    expect(config.alerts?.routes.map((r) => r.declare ?? r.escalationPolicy)).toEqual(['SEV1', 'default']);
    expect(Object.keys(config.escalationPolicies)).toEqual(['default', 'business-hours']);
    expect(config.severities.map((s) => s.escalationPolicy)).toEqual([
      'default',
      'default',
      'business-hours',
      undefined,
      undefined,
    ]);
    expect(config.reminders).toEqual({ missingCommanderAfterMs: 600_000, deputyCalloutsMs: 600_000 });
    expect(config.admins).toEqual(['U0123ADMIN']);
    expect(config.businessTimeZone).toBe('Europe/Berlin');
    expect(config.statusPage).toEqual({
      title: 'Acme status',
      publicUrl: 'https://status.acme.example',
      components: [
        { id: 'api', name: 'API' },
        { id: 'checkout', name: 'Checkout', group: 'Payments' },
      ],
    });
    expect(config.webhooks).toMatchObject([
      { url: 'https://hooks.example.com/incidents', secretEnv: 'WEBHOOK_SECRET_OPS', includePrivate: false },
    ]);
    expect(config.severities[0]?.postmortemDue).toEqual({ businessDays: 5 });
    expect(config.schedules.primary).toMatchObject({
      timeZone: 'Europe/Berlin',
      usergroup: 'S0PRIMARY',
      layers: [
        { turnMs: 7 * 86_400_000, users: ['U0AAA', 'U0BBB', 'U0CCC'] },
        { turnMs: 86_400_000, only: { days: [1, 2, 3, 4, 5], fromMinute: 540, toMinute: 1080 } },
      ],
    });
    expect(config.escalationPolicies.default?.tiers[0]?.notify).toEqual(['schedule:primary', 'S0ONCALL1']);
  });
});

describe('schedules config', () => {
  const parse = (yaml: string) => parseIncidentConfig(yaml, 'cfg.yml');

  it('reads layers, turns, restrictions and local start times', () => {
    const config = parse(
      [
        'schedules:',
        '  follow-the-sun:',
        '    time_zone: Australia/Lord_Howe',
        '    layers:',
        '      - start: "2027-03-01 22:30"',
        '        turn: 36h',
        '        users: [U0AAA, W0BBB]',
        '        only: { from: "22:00", to: "06:00" }',
      ].join('\n'),
    );
    expect(config.schedules['follow-the-sun']).toEqual({
      name: 'follow-the-sun',
      timeZone: 'Australia/Lord_Howe',
      layers: [
        {
          startLocal: Date.UTC(2027, 2, 1, 22, 30),
          turnMs: 36 * 3_600_000,
          users: ['U0AAA', 'W0BBB'],
          only: { days: [1, 2, 3, 4, 5, 6, 7], fromMinute: 1320, toMinute: 360 },
        },
      ],
    });
  });

  it('names the path of every bad zone, layer, turn, day, window and schedule target', () => {
    const lines = problems(() =>
      parse(
        [
          'schedules:',
          '  primary:',
          '    time_zone: Mars/Olympus_Mons',
          '    usergroup: S0SHARED',
          '    layers:',
          '      - { start: "2026-02-30 09:00", turn: 30s, users: [] }',
          '      - start: "2026-11-02 9am"',
          '        turn: 1d',
          '        users: [U0AAA]',
          '        only: { days: [mon, funday], from: "09:00", to: "09:00" }',
          '  secondary:',
          '    time_zone: Europe/Berlin',
          '    usergroup: S0SHARED',
          '    layers: [{ start: "1969-12-31 09:00", turn: 53w, users: [U0BBB], only: { from: "25:00", to: "08:00" } }]',
          'escalation_policies:',
          '  default:',
          '    tiers:',
          '      - { after: 0m, notify: ["schedule:primary", "schedule:tertiary"] }',
        ].join('\n'),
      ),
    );
    expect(lines).toEqual([
      'cfg.yml: schedules.primary.time_zone: "Mars/Olympus_Mons" is not a time zone known to this platform (an IANA name such as Europe/Berlin)',
      'cfg.yml: schedules.primary.layers[0].start: "2026-02-30 09:00" must be a local date and time such as "2026-11-02 09:00" (1970 or later)',
      'cfg.yml: schedules.primary.layers[0].turn: "30s" must be at least 1m',
      'cfg.yml: schedules.primary.layers[0].users: [] must name at least one person',
      'cfg.yml: schedules.primary.layers[1].start: "2026-11-02 9am" must be a local date and time such as "2026-11-02 09:00" (1970 or later)',
      'cfg.yml: schedules.primary.layers[1].only.days[1]: "funday" must be one of mon, tue, wed, thu, fri, sat, sun',
      'cfg.yml: schedules.secondary.layers[0].start: "1969-12-31 09:00" must be a local date and time such as "2026-11-02 09:00" (1970 or later)',
      'cfg.yml: schedules.secondary.layers[0].turn: "53w" must be at most 52w',
      'cfg.yml: schedules.secondary.layers[0].only.from: "25:00" must be a time of day such as "09:00" (00:00 to 23:59)',
    ]);
    // The window, the shared group and the unknown schedule are checked once the shapes are right.
    const shapely = (primaryOnly: string) =>
      problems(() =>
        parse(
          [
            'schedules:',
            '  primary:',
            '    time_zone: Europe/Berlin',
            '    usergroup: S0SHARED',
            `    layers: [{ start: "2026-11-02 09:00", turn: 1d, users: [U0AAA]${primaryOnly} }]`,
            '  secondary:',
            '    time_zone: Europe/Berlin',
            '    usergroup: S0SHARED',
            '    layers: [{ start: "2026-11-02 09:00", turn: 1w, users: [U0BBB] }]',
            'escalation_policies:',
            '  default:',
            '    tiers:',
            '      - { after: 0m, notify: ["schedule:primary", "schedule:tertiary", "schedule:toString"] }',
          ].join('\n'),
        ),
      );
    expect(shapely(', only: { from: "09:00", to: "09:00" }')).toEqual([
      'cfg.yml: schedules.primary.layers[0].only.to: "09:00" must differ from `from` (a window of no time)',
    ]);
    const targets = shapely('');
    expect(targets).toEqual([
      'cfg.yml: escalation_policies.default.tiers[0].notify[1]: "schedule:tertiary" names no schedule in schedules',
      'cfg.yml: escalation_policies.default.tiers[0].notify[2]: "schedule:toString" names no schedule in schedules',
      'cfg.yml: schedules.secondary.usergroup: is schedules.primary.usergroup too (one group can follow one schedule)',
    ]);
  });
});
