export { QueenError } from './errors.js';
export { Queen, type QueenAntOptions, type QueenOptions } from './queen.js';
export * from './service.js';
