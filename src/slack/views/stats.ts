import type { StatKind, Stats, Summary } from '../../learn/stats.js';
import { escapeMrkdwn } from '../../text.js';
import { slackDate } from '../text.js';
import { message, type SlackMessage } from './blocks.js';

/** `/incident stats`: the numbers, each with its definition. */

const DEFINITION: Record<StatKind, string> = {
  mtta: '*MTTA* (declared → first acknowledged)',
  mttm: '*MTTM* (declared → first mitigated: monitoring, or resolved without it)',
  mttr: '*MTTR* (declared → final resolve)',
};

/** A span of time in words: `42s`, `12m`, `3h 05m`, `2d 4h`. */
export function humanSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const figure = (kind: StatKind, s: Summary) =>
  s.n === 0 || s.medianMs === null || s.p90Ms === null || s.meanMs === null
    ? `${DEFINITION[kind]}: no incident got there`
    : `${DEFINITION[kind]}: median ${humanSpan(s.medianMs)} · p90 ${humanSpan(s.p90Ms)} · mean ${humanSpan(s.meanMs)} (${s.n} incident${s.n === 1 ? '' : 's'})`;

export function statsMessage(stats: Stats, chartComing: boolean): SlackMessage {
  const scope = `last ${stats.days} day${stats.days === 1 ? '' : 's'}${stats.severity ? `, ${escapeMrkdwn(stats.severity)} only` : ''}`;
  const bySeverity = stats.bySeverity.map((s) => `${escapeMrkdwn(s.severity)} ${s.count}`).join(' · ');
  const a = stats.alerts;
  const lines = [
    `📊 *Incidents, ${scope}* (since ${slackDate(stats.from, '{date_short_pretty}')}; test incidents left out): *${stats.total}*${bySeverity ? ` — ${bySeverity}` : ''}`,
    ...(['mtta', 'mttm', 'mttr'] as const).map((k) => figure(k, stats.times[k])),
    `*Follow-ups* (all incidents): ${stats.followups.open} open, ${stats.followups.overdue} overdue`,
    `*Alert hub*: ${a.received.toLocaleString('en-US')} alerts received, ${
      a.dedupShare === null ? 'none de-duplicated' : `${Math.round(a.dedupShare * 100)}% de-duplicated`
    }, ${a.groups} group${a.groups === 1 ? '' : 's'}, ${a.declared} became incidents`,
    ...(chartComing ? ['📈 The MTTR chart (by severity, per ISO week) is on its way to your DMs.'] : []),
  ];
  return message(lines.join('\n'));
}
