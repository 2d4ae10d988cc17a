export * from './definition/index.js';
export * from './definition/model.js';
export * from './queen/service.js';
export * from './server/index.js';
