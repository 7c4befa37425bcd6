// The config references of docs/train.md (the training config), docs/models.md (every model's config)
// and docs/features.md (FeatureConfig),
// generated from the zod schemas themselves (types, bounds, defaults and the `.describe()` text of every
// key), so the docs cannot drift from what is validated. scripts/gen-config-docs.ts writes them between
// their markers; test/train/config-docs.test.ts fails when a file is stale.
import type { z } from 'zod';
import { featureConfigSchema, LIBROSA_DEFAULTS } from '../features/config.js';
import { FEATURE_FORMATS, FORMATS } from '../features/formats.js';
import { getModelDefinition, listModels } from '../models/index.js';
import { trainConfigSchema } from './config.js';

/** A generated section of a doc: its markers and what goes between them. */
export interface GeneratedSection {
  file: string;
  start: string;
  end: string;
  render(): string;
}

// biome-ignore lint/suspicious/noExplicitAny: zod's internal definitions are walked generically
type Def = any;
type Schema = z.ZodType;

function defOf(s: Schema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

interface Unwrapped {
  core: Schema;
  optional: boolean;
  nullable: boolean;
  hasDefault: boolean;
  dflt: unknown;
  doc: string | undefined;
}

/** Peels optional/nullable/default/prefault wrappers, keeping the first description met. */
function unwrap(s: Schema): Unwrapped {
  const u: Unwrapped = {
    core: s,
    optional: false,
    nullable: false,
    hasDefault: false,
    dflt: undefined,
    doc: s.description,
  };
  for (;;) {
    const d = defOf(u.core);
    if (d.type === 'optional') u.optional = true;
    else if (d.type === 'nullable') u.nullable = true;
    else if (d.type === 'default' || d.type === 'prefault') {
      u.hasDefault = true;
      u.dflt = d.defaultValue;
    } else break;
    u.core = d.innerType;
    u.doc ??= u.core.description;
  }
  return u;
}

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function numberType(d: Def): string {
  const checks = (d.checks ?? []).map((c: Def) => c._zod.def);
  const isInt = checks.some((k: Def) => k.check === 'number_format');
  let lo: string | null = null;
  let hi: string | null = null;
  for (const k of checks) {
    if (k.check === 'greater_than') lo = `${k.inclusive ? '[' : '('}${k.value}`;
    if (k.check === 'less_than') hi = `${k.value}${k.inclusive ? ']' : ')'}`;
  }
  const name = isInt ? 'integer' : 'number';
  if (lo && hi) return `${name} in ${lo}, ${hi}`;
  if (lo) return `${name} ${lo[0] === '[' ? '≥' : '>'} ${lo.slice(1)}`;
  if (hi) return `${name} ${hi.endsWith(']') ? '≤' : '<'} ${hi.slice(0, -1)}`;
  return name;
}

/** A short type: `integer ≥ 1`, `` `a` \| `b` ``, `list of string`, … */
function typeOf(s: Schema): string {
  const u = unwrap(s);
  const d = defOf(u.core);
  let t: string;
  switch (d.type) {
    case 'number':
      t = numberType(d);
      break;
    case 'string':
      t = 'string';
      break;
    case 'boolean':
      t = 'true/false';
      break;
    case 'enum':
      t = Object.values(d.entries as Record<string, string>)
        .map(code)
        .join(' \\| ');
      break;
    case 'literal':
      t = (d.values as unknown[]).map(code).join(' \\| ');
      break;
    case 'array':
      t = `list of ${typeOf(d.element)}`;
      break;
    case 'tuple':
      t = `[${(d.items as Schema[]).map(typeOf).join(', ')}]`;
      break;
    case 'union':
      t = (d.options as Schema[]).map(typeOf).join(' or ');
      break;
    case 'record':
      t = 'mapping';
      break;
    case 'object':
      t = 'mapping';
      break;
    case 'unknown':
      t = 'spec or file';
      break;
    default:
      t = String(d.type);
  }
  return u.nullable ? `${t} or \`null\`` : t;
}

function defaultOf(u: Unwrapped): string {
  if (u.hasDefault) {
    const v = u.dflt;
    if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) return '';
    return code(v);
  }
  return u.optional ? '' : 'required';
}

interface Row {
  key: string;
  type: string;
  dflt: string;
  doc: string;
}

function rowsOf(prefix: string, s: Schema, rows: Row[], note = ''): void {
  const u = unwrap(s);
  const d = defOf(u.core);
  const doc = `${note}${u.doc ?? ''}`;
  if (d.type === 'object') {
    // The object itself gets a row when it can be null or says something.
    if (prefix && (u.nullable || u.doc)) rows.push({ key: prefix, type: typeOf(s), dflt: defaultOf(u), doc });
    for (const [k, child] of Object.entries(d.shape as Record<string, Schema>))
      rowsOf(prefix ? `${prefix}.${k}` : k, child, rows);
    return;
  }
  if (d.type === 'union' && d.discriminator) {
    // One row for the discriminator, then each variant's keys (merged when variants share them).
    const variants = d.options as Schema[];
    const tag = d.discriminator as string;
    const names = variants.map((v) => (defOf(defOf(v).shape[tag]).values as string[])[0]!);
    const tagDefault = (u.dflt as Record<string, unknown> | undefined)?.[tag];
    rows.push({
      key: `${prefix}.${tag}`,
      type: names.map(code).join(' \\| '),
      dflt: tagDefault === undefined ? defaultOf(u) : code(tagDefault),
      doc,
    });
    const seen = new Map<string, { row: Row; of: string[] }>();
    variants.forEach((v, i) => {
      for (const [k, child] of Object.entries(defOf(v).shape as Record<string, Schema>)) {
        if (k === tag) continue;
        const cu = unwrap(child);
        const row: Row = {
          key: `${prefix}.${k}`,
          type: typeOf(child),
          dflt: defaultOf(cu),
          doc: cu.doc ?? '',
        };
        // Variants sharing a key (same type and default) share its row; the first description is kept.
        const sig = JSON.stringify([row.key, row.type, row.dflt]);
        const had = seen.get(sig);
        if (had) {
          had.of.push(names[i]!);
          had.row.doc ||= row.doc;
        } else seen.set(sig, { row, of: [names[i]!] });
      }
    });
    for (const { row, of } of seen.values())
      rows.push({ ...row, doc: `(${of.map(code).join(', ')}) ${row.doc}`.trim() });
    return;
  }
  rows.push({ key: prefix, type: typeOf(s), dflt: defaultOf(u), doc });
}

const cell = (s: string) =>
  s.replace(/\|/g, (m, i, all) => (all[i - 1] === '\\' ? m : '\\|')).replace(/\n/g, ' ');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Every key of the training config, then the feature formats. */
export function configReference(): string {
  const rows: Row[] = [];
  rowsOf('', trainConfigSchema as unknown as Schema, rows);
  const keys = table(
    ['key', 'type', 'default', 'what'],
    rows.map((r) => [`\`${r.key}\``, r.type, r.dflt, r.doc]),
  );
  return `${keys}\n\nFeature formats (the registry in \`src/features/formats.ts\`; \`inChannels\` of the model comes from here):\n\n${formatTable()}`;
}

function formatTable(): string {
  return table(
    ['`features.format`', 'channels', 'what'],
    FEATURE_FORMATS.map((f) => [`\`${f}\``, String(FORMATS[f].channels), FORMATS[f].doc]),
  );
}

/** Defaults resolveFeatureConfig derives from other keys (as librosa does) rather than takes from
 * LIBROSA_DEFAULTS. */
const DERIVED: Record<string, string> = {
  winLength: 'nFft',
  hopLength: '⌊winLength/4⌋',
  fmax: 'sampleRate/2',
};

/** Every FeatureConfig key with its type, librosa 0.10 default and meaning, then the formats. */
export function featureConfigReference(): string {
  const defaults = LIBROSA_DEFAULTS as unknown as Record<string, unknown>;
  const rows = Object.entries(featureConfigSchema.shape as Record<string, Schema>).map(([k, s]) => [
    `\`${k}\``,
    typeOf(s),
    DERIVED[k] ?? code(defaults[k]),
    unwrap(s).doc ?? '',
  ]);
  return `${table(['key', 'type', 'default (librosa 0.10)', 'meaning (librosa name)'], rows)}\n\n${formatTable()}`;
}

/** Every registry model's config keys with their types and defaults (the schema each model validates). */
export function modelsReference(): string {
  const rows: string[][] = [];
  for (const { name } of listModels()) {
    let core = unwrap(getModelDefinition(name).configSchema as unknown as Schema).core;
    if (defOf(core).type === 'pipe') core = defOf(core).in;
    Object.entries(defOf(core).shape as Record<string, Schema>).forEach(([k, s], i) => {
      rows.push([i === 0 ? `\`${name}\`` : '', `\`${k}\``, typeOf(s), defaultOf(unwrap(s))]);
    });
  }
  return table(['model', 'key', 'type', 'default'], rows);
}

/** The generated sections of the docs. */
export const GENERATED_SECTIONS: readonly GeneratedSection[] = [
  {
    file: 'docs/train.md',
    start: '<!-- config-reference:start (generated by scripts/gen-config-docs.ts) -->',
    end: '<!-- config-reference:end -->',
    render: configReference,
  },
  {
    file: 'docs/models.md',
    start: '<!-- model-config-reference:start (generated by scripts/gen-config-docs.ts) -->',
    end: '<!-- model-config-reference:end -->',
    render: modelsReference,
  },
  {
    file: 'docs/features.md',
    start: '<!-- feature-config-reference:start (generated by scripts/gen-config-docs.ts) -->',
    end: '<!-- feature-config-reference:end -->',
    render: featureConfigReference,
  },
];

/** `doc` (the text of section.file) with the section regenerated; the markers must be there. */
export function withSection(doc: string, section: GeneratedSection): string {
  const a = doc.indexOf(section.start);
  const b = doc.indexOf(section.end);
  if (a < 0 || b < a)
    throw new Error(`${section.file}: expected the markers ${section.start} … ${section.end}`);
  return `${doc.slice(0, a + section.start.length)}\n${section.render()}\n${doc.slice(b)}`;
}

/** docs/train.md's text with its config reference regenerated. */
export function withConfigReference(doc: string): string {
  return withSection(doc, GENERATED_SECTIONS[0]!);
}
