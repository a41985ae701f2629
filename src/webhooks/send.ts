import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { WEBHOOK_TIMEOUT_MS } from './model.js';

/**
 * One POST to a webhook endpoint, guarded against server-side request forgery: unless the endpoint allows
 * it, an address that is private, loopback, link-local, CGNAT or unspecified is refused — checked on the
 * addresses the connection really uses (at DNS lookup time, so a name that resolves differently later
 * cannot slip through), and on a literal IP in the URL.
 */

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::ffff:0:0', 96],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export const isPrivateAddress = (address: string): boolean => {
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
};

export class RefusedAddress extends Error {}

/** DNS lookup that refuses private addresses. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as LookupAddress[];
    const blocked = list.find((a) => isPrivateAddress(a.address));
    if (blocked)
      return callback(
        new RefusedAddress(`${hostname} resolves to a private address (${blocked.address})`),
        '',
        0,
      );
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    const first = list[0];
    return first
      ? callback(null, first.address, first.family)
      : callback(new Error(`${hostname}: no address`), '', 0);
  });
};

export interface SendResult {
  status: number;
}

/** POSTs the body; resolves with the HTTP status (any), rejects on a refused address, timeout or network error. */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { allowPrivate: boolean; timeoutMs?: number },
): Promise<SendResult> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isPrivateAddress(host))
    return Promise.reject(new RefusedAddress(`${host} is a private address`));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'incident-bot-webhooks/1',
          ...headers,
        },
        timeout: options.timeoutMs ?? WEBHOOK_TIMEOUT_MS,
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
      },
      (res) => {
        res.resume(); // the answer's body is not read: only its status counts
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer within ${options.timeoutMs ?? WEBHOOK_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
