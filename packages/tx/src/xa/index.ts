export { type CoordinatorOptions, type Decision, InDoubtError, TwoPhaseCoordinator } from './coordinator.js';
export { type Branch, mysqlParticipant, type OpenBranch, type Participant, pgParticipant } from './participants.js';
