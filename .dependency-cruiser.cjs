/**
 * The architecture, as rules that `npm run lint` enforces (dependency-cruiser). Read top to bottom:
 *
 *   main.ts, bot.ts         the composition root: knows everything, and nothing knows it
 *   slack/, http/           transports: parse, call the domain, render; siblings that never meet
 *   alerts/, escalation/,   capabilities on top of incidents (alerts: the hub; escalation: paging;
 *   oncall/, learn/         oncall: schedules, overrides, handoffs — escalation resolves schedule:<name> through it;
 *                           learn: the postmortem document and its publishing, the numbers;
 *   webhooks/, statuspage/  the outbox and signed deliveries; the public status page)
 *   incidents/              the domain: use-cases, the reminder plan, jobs; speaks no Slack
 *   jobs/, timeline/, db/   infrastructure the domain stands on
 *   config/, logger, errors, clock, duration, calendar, metrics, text   the kernel everyone may use
 *   <folder>/model.ts       the domain's words and limits (and timeline/words.ts, the events in words in any
 *                           text dialect): leaves, importable from anywhere
 *
 * Arrows point down only. (No imports of a library's build output, such as @slack/bolt/dist/…: biome.json.) A capability reaches Slack through a port it defines (incidents/chat.ts) that
 * slack/ implements; it reaches another capability through that folder's exported functions.
 */

const DOMAIN = '^src/(incidents|escalation|alerts|oncall|learn|webhooks|statuspage)/';
const INFRA = '^src/(jobs|timeline|db)/';
const KERNEL = '^src/(config/|(logger|errors|clock|duration|calendar|metrics|text)\\.ts$)';
const MODEL = '^src/[^/]+/(model|words)\\.ts$';
const TRANSPORTS = '^src/(slack|http)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Files never depend on each other in a circle; a cycle means a room without a clear owner.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'composition-root-is-top',
      comment: 'Only main.ts starts bot.ts, and nothing else imports either: they wire, they are not used.',
      severity: 'error',
      from: { pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(main|bot)\\.ts$' },
    },
    {
      name: 'transports-are-siblings',
      comment: 'slack/ and http/ each depend on the domain, never on each other; bot.ts plugs them together.',
      severity: 'error',
      from: { path: '^src/slack/' },
      to: { path: '^src/http/' },
    },
    {
      name: 'transports-are-siblings-too',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/slack/' },
    },
    {
      name: 'transports-use-the-domain-not-its-storage',
      comment:
        'Listeners, views and routes call use-cases and queries; they never touch the database, the job engine or the timeline store (their words, in model.ts files, are fine).',
      severity: 'error',
      from: { path: TRANSPORTS },
      to: { path: INFRA, pathNot: MODEL },
    },
    {
      name: 'domain-never-reaches-up',
      comment: 'The domain knows no transport: it records what must happen (typed jobs); slack/ renders how.',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: `${TRANSPORTS}|^src/(main|bot)\\.ts$` },
    },
    {
      name: 'no-slack-sdk-below-transports',
      comment: 'Block Kit, Bolt and the Web API client belong to slack/ (and the composition root) only.',
      severity: 'error',
      from: { pathNot: '^src/(slack/|bot\\.ts$)' },
      to: { path: '^node_modules/@slack/' },
    },
    {
      name: 'incidents-stand-alone',
      comment:
        'incidents/ knows no other capability: escalation plugs in through EscalationControl (unit-of-work.ts).',
      severity: 'error',
      from: { path: '^src/incidents/' },
      to: { path: '^src/(escalation|alerts|oncall|learn|webhooks|statuspage)/', pathNot: MODEL },
    },
    {
      name: 'capabilities-use-incidents-through-its-functions',
      comment:
        'Another capability reads and changes incidents through incidents/ (queries, unit of work, use-cases), never their tables.',
      severity: 'error',
      from: { path: '^src/escalation/' },
      to: { path: '^src/db/schema\\.ts$' },
    },
    {
      name: 'only-jobs-touch-the-jobs-table',
      comment: 'Schedule, cancel and ask isPending through jobs/job.ts; the table is the engine’s own.',
      severity: 'error',
      from: { pathNot: '^src/jobs/' },
      to: { path: '^src/jobs/table\\.ts$' },
    },
    {
      name: 'capabilities-own-their-tables',
      comment:
        'A capability’s tables.ts (alerts/, oncall/) belongs to it: others read it through its queries.ts functions.',
      severity: 'error',
      from: { path: '^src/([^/]+)' },
      to: { path: '^src/[^/]+/tables\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'infrastructure-knows-no-domain',
      comment:
        'jobs/, timeline/ and db/ serve every capability and know none (but their words, in model.ts).',
      severity: 'error',
      from: { path: INFRA },
      to: { path: `${DOMAIN}|${TRANSPORTS}`, pathNot: MODEL },
    },
    {
      name: 'kernel-knows-no-layer',
      comment:
        'config, logger, errors, clock, duration and text depend on nothing of ours but model.ts words.',
      severity: 'error',
      from: { path: KERNEL },
      to: { path: '^src/', pathNot: `${KERNEL}|${MODEL}` },
    },
    {
      name: 'models-are-leaves',
      comment: 'A model.ts holds words and limits; it imports other model.ts files at most.',
      severity: 'error',
      from: { path: MODEL },
      to: { path: '^src/', pathNot: MODEL },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-dev-dependencies-at-run-time',
      comment: 'src/ runs in production, where only the dependencies are installed.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no compiler API for dependency-cruiser to use; swc parses the sources instead.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
