import type { TemplateName } from '../model/schema.js';
import { type LintConfig, resolveConfig } from './config.js';

interface Preset {
  /** The template's shape, in a line, for the README and `--help`. */
  readonly description: string;
  /** Settings in the configuration-file form, checked by the same code as an organisation's file. */
  readonly rules: Record<string, unknown>;
}

/**
 * What each well-known template asks for, so a document written in its shape is held to that
 * shape and not to this package's own. Each relaxes only what the template does not ask for
 * (its sections, its action table's columns, its way of writing the analysis) and keeps every
 * rule about the quality of what it does ask for.
 */
export const PRESETS: Readonly<Record<TemplateName, Preset>> = {
  'google-sre': {
    description:
      "The Google SRE book's template: Summary, Impact, Root Causes (prose), Trigger, Resolution, Detection, Action Items (Action Item | Type | Owner | Bug), Lessons Learned, Timeline (HH:MM text).",
    rules: {
      'section-missing': {
        required: ['summary', 'customerImpact', 'rootCause', 'lessons', 'actions', 'timeline'],
        headings: ['Trigger', 'Resolution', 'Detection'],
      },
      // The template's summary is one sentence; the Impact section carries the numbers.
      'summary-incomplete': { require: ['duration', 'cause'] },
      'timeline-entry-malformed': { separator: 'optional' },
      'whys-not-numbered': 'off',
      'whys-too-shallow': 'off',
      'response-analysis-incomplete': 'off',
      'lessons-not-numbered': 'off',
      'action-table-malformed': { columns: ['Description', 'Owner', 'Link'] },
      'action-no-deadline': 'off',
      'action-no-priority': 'off',
      'action-unlinked': 'off',
    },
  },
  pagerduty: {
    description:
      "PagerDuty's template: Overview, What Happened, Contributing Factors, Resolution, Impact, Responders, Timeline, How'd We Do?, Action Items.",
    rules: {
      'section-missing': {
        required: ['summary', 'timeline', 'customerImpact', 'rootCause', 'lessons', 'actions'],
        headings: ['What happened', 'Resolution'],
      },
      'summary-incomplete': { require: ['impact', 'duration', 'cause', 'resolution'] },
      'whys-not-numbered': 'off',
      'whys-too-shallow': 'off',
      'response-analysis-incomplete': 'off',
      'lessons-not-numbered': 'off',
      'action-table-malformed': { columns: ['Description', 'Owner', 'Deadline', 'Link'] },
      'action-no-priority': 'off',
      'action-unlinked': 'off',
    },
  },
  atlassian: {
    description:
      "Atlassian's incident handbook: Incident summary, Leadup, Fault, Impact, Detection, Response, Recovery, Timeline, Five whys (one chain), Lessons learned, Corrective actions.",
    rules: {
      'section-missing': {
        required: ['summary', 'customerImpact', 'timeline', 'rootCause', 'lessons', 'actions'],
        headings: ['Leadup', 'Fault', 'Detection', 'Response', 'Recovery'],
      },
      'summary-incomplete': { require: ['timezone', 'impact', 'duration', 'cause', 'resolution'] },
      'whys-too-shallow': { branches: [] },
      'response-analysis-incomplete': 'off',
      'lessons-not-numbered': 'off',
      'action-table-malformed': { columns: ['Description', 'Owner', 'Deadline'] },
      'action-no-priority': 'off',
      'action-unlinked': 'off',
    },
  },
  'aws-coe': {
    description:
      "AWS's Correction of Error: Summary, Impact, Timeline, Metrics, Incident Questions (Detection, Diagnosis, Mitigation, Blast radius), 5 Whys, Lessons learned, Action Items (Action | Owner | Priority | Due date | Ticket).",
    rules: {
      'section-missing': {
        required: ['summary', 'customerImpact', 'timeline', 'metrics', 'rootCause', 'responseAnalysis', 'lessons', 'actions'],
      },
      'action-table-malformed': { columns: ['Description', 'Owner', 'Deadline', 'Priority', 'Link'] },
      'action-unlinked': 'off',
    },
  },
};

const cache = new Map<TemplateName, LintConfig>();

/** The full configuration a preset gives: the defaults with the preset's settings applied. */
export function presetConfig(name: TemplateName): LintConfig {
  let config = cache.get(name);
  if (!config) {
    const preset = PRESETS[name];
    if (!preset) throw new RangeError(`unknown preset "${name}"`);
    // Not `explicit`: inside a preset these are defaults an organisation's own settings override.
    config = new Map(
      [...resolveConfig({ rules: preset.rules }, (path) => `preset ${name}: ${path.join('.')}`)].map(([id, s]) => [
        id,
        { ...s, explicit: false },
      ]),
    );
    cache.set(name, config);
  }
  return config;
}
