export * from './definition/model.js';
export * from './queen/service.js';
