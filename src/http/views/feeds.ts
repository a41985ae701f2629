import { Feed } from 'feed';
import type { PageInput } from '../../statuspage/page.js';

/**
 * The history as Atom and RSS, written by the `feed` library (well-formed XML, escaping, dates): one entry
 * per published update, newest first, with a feed-level author as Atom requires.
 */
export function historyFeed(input: PageInput): Feed {
  const { title, publicUrl } = input.config;
  const entries = input.incidents
    .flatMap((p) =>
      p.updates.map((u) => ({
        incident: p,
        update: u,
        title: p.updates.findLast((x) => x.publicTitle)?.publicTitle ?? p.incident.title,
      })),
    )
    .sort((a, b) => b.update.postedAt.getTime() - a.update.postedAt.getTime() || b.update.id - a.update.id);
  const feed = new Feed({
    title: `${title}: incident history`,
    description: `Incidents and their updates, from ${title}.`,
    id: `${publicUrl}/status`,
    link: `${publicUrl}/status`,
    language: 'en',
    updated: entries[0]?.update.postedAt ?? input.now,
    copyright: title,
    feedLinks: { atom: `${publicUrl}/history.atom`, rss: `${publicUrl}/history.rss` },
    author: { name: title, link: publicUrl },
  });
  for (const e of entries) {
    const link = `${publicUrl}/status/incidents/${e.incident.incident.id}`;
    const status = e.update.status.charAt(0).toUpperCase() + e.update.status.slice(1);
    feed.addItem({
      title: `${e.title}: ${status}`,
      id: `${link}#update-${e.update.id}`,
      link,
      date: e.update.postedAt,
      description: e.update.publicBody ?? e.update.message,
    });
  }
  return feed;
}
