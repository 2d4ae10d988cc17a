export { compensateSaga, retrySaga, SagaAdminError } from './admin.js';
export type { ParallelGroup, SagaDefinition, SagaStep, StepContext, StepRetry } from './definition.js';
export { planSaga } from './definition.js';
export {
  type SagaEventMessage,
  type SagaOutcome,
  SagaRunner,
  type SagaRunnerOptions,
  StepTimeoutError,
  type TransitionNotice,
} from './runner.js';
export { SAGA_STATUSES, type SagaState, type SagaStatus, type StepState, type StepStatus } from './state.js';
export { type SagaEvent, SagaOwnershipLostError, type SagaRecord, SagaStore } from './store.js';
