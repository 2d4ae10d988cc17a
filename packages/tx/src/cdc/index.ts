export { Capture, type CaptureOptions, type SlotLag } from './capture.js';
export { type Change, type CommittedTransaction, changesToEvents, type MappingOptions, type Relation } from './changes.js';
