/**
 * Slack's documented limits (shared/design/SLACK.md) as a checker for what the view builders produce.
 * Returns the list of violations, so a failing test names every one.
 */

type Node = Record<string, unknown>;

const len = (s: unknown) => Array.from(String(s ?? '')).length;

function checkText(path: string, text: unknown, max: number, out: string[]) {
  if (text === undefined) return;
  const t = text as Node;
  if (len(t.text) > max) out.push(`${path}: text of ${len(t.text)} chars > ${max}`);
  if (len(t.text) === 0) out.push(`${path}: empty text`);
}

function checkElement(path: string, el: Node, out: string[]) {
  if (el.action_id !== undefined && len(el.action_id) > 255) out.push(`${path}.action_id > 255`);
  if (el.type === 'button') {
    checkText(`${path}.text`, el.text, 75, out);
    if (len(el.value) > 2000) out.push(`${path}.value > 2000`);
  }
  if (el.type === 'plain_text_input' && typeof el.max_length === 'number' && el.max_length > 3000) {
    out.push(`${path}.max_length > 3000`);
  }
  const options = (el.options as Node[] | undefined) ?? [];
  if (options.length > 100) out.push(`${path}: ${options.length} options > 100`);
  options.forEach((o, i) => {
    checkText(`${path}.options[${i}].text`, o.text, 75, out);
    if (o.description) checkText(`${path}.options[${i}].description`, o.description, 75, out);
    if (len(o.value) > 150) out.push(`${path}.options[${i}].value > 150`);
  });
}

export function checkBlocks(blocks: Node[], maxBlocks: number, out: string[] = []): string[] {
  if (blocks.length > maxBlocks) out.push(`${blocks.length} blocks > ${maxBlocks}`);
  blocks.forEach((b, i) => {
    const p = `blocks[${i}](${String(b.type)})`;
    if (b.block_id !== undefined && len(b.block_id) > 255) out.push(`${p}.block_id > 255`);
    switch (b.type) {
      case 'header':
        if ((b.text as Node).type !== 'plain_text') out.push(`${p}: header text must be plain_text`);
        checkText(`${p}.text`, b.text, 150, out);
        break;
      case 'section': {
        checkText(`${p}.text`, b.text, 3000, out);
        const fields = (b.fields as Node[] | undefined) ?? [];
        if (fields.length > 10) out.push(`${p}: ${fields.length} fields > 10`);
        fields.forEach((f, j) => {
          checkText(`${p}.fields[${j}]`, f, 2000, out);
        });
        if (!b.text && fields.length === 0) out.push(`${p}: section needs text or fields`);
        break;
      }
      case 'context': {
        const els = b.elements as Node[];
        if (els.length > 10) out.push(`${p}: ${els.length} elements > 10`);
        els.forEach((e, j) => {
          checkText(`${p}.elements[${j}]`, e, 3000, out);
        });
        break;
      }
      case 'actions': {
        const els = b.elements as Node[];
        if (els.length > 25) out.push(`${p}: ${els.length} elements > 25`);
        els.forEach((e, j) => {
          checkElement(`${p}.elements[${j}]`, e, out);
        });
        break;
      }
      case 'input':
        checkText(`${p}.label`, b.label, 2000, out);
        if (b.hint) checkText(`${p}.hint`, b.hint, 2000, out);
        checkElement(`${p}.element`, b.element as Node, out);
        break;
      case 'divider':
        break;
      default:
        out.push(`${p}: unexpected block type`);
    }
  });
  return out;
}

export function checkModal(view: Node): string[] {
  const out: string[] = [];
  for (const key of ['title', 'submit', 'close'] as const) {
    const t = view[key] as Node | undefined;
    if (key === 'title' && !t) out.push('modal title missing');
    if (t) {
      if (t.type !== 'plain_text') out.push(`${key} must be plain_text`);
      if (len(t.text) > 24) out.push(`${key} "${String(t.text)}" > 24 chars`);
    }
  }
  if (len(view.private_metadata) > 3000) out.push('private_metadata > 3000');
  if (len(view.callback_id) > 255) out.push('callback_id > 255');
  return checkBlocks(view.blocks as Node[], 100, out);
}

export function checkMessage(message: { text: string; blocks: unknown[] }): string[] {
  const out: string[] = [];
  if (!message.text) out.push('message without fallback text');
  if (len(message.text) > 4000) out.push(`fallback text ${len(message.text)} > 4000`);
  return checkBlocks(message.blocks as Node[], 50, out);
}

/** Every text Slack parses as mrkdwn inside a block tree (plain_text is never parsed for mentions). */
export function mrkdwnTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnTexts);
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const own = o.type === 'mrkdwn' && typeof o.text === 'string' ? [o.text] : [];
  return [...own, ...Object.values(o).flatMap(mrkdwnTexts)];
}
