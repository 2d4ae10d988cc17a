import type { Rule } from '../rule.js';
import { actionDeadlineBeforeIncident } from './action-deadline-before-incident.js';
import { actionDeadlineTooFar } from './action-deadline-too-far.js';
import { actionInvestigate } from './action-investigate.js';
import { actionNoDeadline } from './action-no-deadline.js';
import { actionNoOwner } from './action-no-owner.js';
import { actionNoPriority } from './action-no-priority.js';
import { actionOwnerIsTeam } from './action-owner-is-team.js';
import { actionUnlinked } from './action-unlinked.js';
import { impactVague } from './impact-vague.js';
import { lessonRestatesAction } from './lesson-restates-action.js';
import { lessonsNotNumbered } from './lessons-not-numbered.js';
import { metricsMissingUnits } from './metrics-missing-units.js';
import {
  actionTableMalformed,
  frontMatterInvalid,
  frontMatterMissing,
  suppressionInvalid,
  timelineEntryMalformed,
} from './parse-problems.js';
import { responseAnalysisIncomplete } from './response-analysis-incomplete.js';
import { reviewDraftTooShort } from './review-draft-too-short.js';
import { reviewMissingBarRaiser } from './review-missing-bar-raiser.js';
import { sectionMissing } from './section-missing.js';
import { securitySensitiveShared } from './security-sensitive-shared.js';
import { summaryIncomplete } from './summary-incomplete.js';
import { suppressionUnused } from './suppression-unused.js';
import { timelineGap } from './timeline-gap.js';
import { timelineMissingMilestones } from './timeline-missing-milestones.js';
import { timelineMixedTimezones } from './timeline-mixed-timezones.js';
import { timelineNamesPeople } from './timeline-names-people.js';
import { timelineNoTimezone } from './timeline-no-timezone.js';
import { timelineStartsLate } from './timeline-starts-late.js';
import { titleNamesCause } from './title-names-cause.js';
import { whysNotNumbered } from './whys-not-numbered.js';
import { whysStopAtBlame } from './whys-stop-at-blame.js';
import { whysTooShallow } from './whys-too-shallow.js';

/** Every rule, in the order the document is read. */
export const RULES: readonly Rule[] = [
  frontMatterMissing,
  frontMatterInvalid,
  sectionMissing,
  titleNamesCause,
  summaryIncomplete,
  impactVague,
  timelineEntryMalformed,
  timelineMixedTimezones,
  timelineNoTimezone,
  timelineGap,
  timelineStartsLate,
  timelineNamesPeople,
  timelineMissingMilestones,
  metricsMissingUnits,
  whysNotNumbered,
  whysTooShallow,
  whysStopAtBlame,
  responseAnalysisIncomplete,
  lessonRestatesAction,
  lessonsNotNumbered,
  actionTableMalformed,
  actionInvestigate,
  actionOwnerIsTeam,
  actionNoOwner,
  actionNoDeadline,
  actionDeadlineTooFar,
  actionDeadlineBeforeIncident,
  actionNoPriority,
  actionUnlinked,
  reviewMissingBarRaiser,
  reviewDraftTooShort,
  securitySensitiveShared,
  suppressionInvalid,
  suppressionUnused,
];
