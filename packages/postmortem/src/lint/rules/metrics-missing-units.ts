import { z } from 'zod';
import { defineRule, type Report } from '../rule.js';
import { findPhrase } from '../text.js';
import { phrases } from './options.js';

export const metricsMissingUnits = defineRule({
  id: 'metrics-missing-units',
  severity: 'warning',
  summary: 'A graph in Metrics has no caption, or a caption that names no unit (ms, %, requests per second, count).',
  why: 'A graph without units cannot be compared with normal operation or with the graphs of another incident.',
  hint: 'Caption every graph (an emphasised line under the image) with what it shows, its unit and its time range: "Figure 1: checkout errors, percent of requests, 14:00-16:00 UTC".',
  options: z
    .object({
      units: phrases([
        'ms',
        'millisecond*',
        'second*',
        'minute*',
        '%',
        'percent*',
        'per second',
        'per minute',
        'rps',
        'qps',
        'count',
        'bytes',
        'kb',
        'mb',
        'gb',
      ]),
    })
    .strict(),
  check(context, options) {
    const reports: Report[] = [];
    (context.doc.metrics?.figures ?? []).forEach((figure, i) => {
      const at = context.at(`/metrics/figures/${i}`);
      if (figure.caption === '') reports.push({ message: `the graph ${figure.src} has no caption`, at });
      else if (!findPhrase(`${figure.caption} ${figure.alt}`, options.units))
        reports.push({ message: `the caption of ${figure.src} names no unit`, at });
    });
    return reports;
  },
});
